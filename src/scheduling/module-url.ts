import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentTypeError, InvalidArgumentValueError } from '../errors/index.js';

/** A module given as a path (absolute, or relative to the working directory) or a URL, as a URL string. */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module.length === 0) throw new InvalidArgumentTypeError('module', module, 'a path or a URL');
  if (/^(file|data|node):/.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

export function validateExportName(exportName: unknown): asserts exportName is string {
  if (typeof exportName !== 'string') throw new InvalidArgumentTypeError('exportName', exportName, 'a string');
  if (exportName.length === 0) throw new InvalidArgumentValueError('exportName', exportName, 'must not be empty');
}
