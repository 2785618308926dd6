import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layers of src/, bottom first: a folder may import only from its own layer and those before it.
// errors and diagnostics sit beneath everything; docs/ARCHITECTURE.md carries the same map.
const kLayers: readonly (readonly string[])[] = [['errors', 'diagnostics'], ['buffers'], ['pipe'], ['ring'], ['scheduling'], ['io'], ['framing']];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function layerOf(folder: string): number {
  const index = kLayers.findIndex((layer) => layer.includes(folder));
  if (index < 0) throw new Error(`src/${folder} is in no layer: add it to the layer list of this test and to docs/ARCHITECTURE.md`);
  return index;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\bimport\(\s*'([^']+)'\s*\)/g, /new URL\(\s*'([^']+)'\s*,\s*import\.meta\.url/g];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

interface Edge {
  file: string;
  from: string;
  to: string;
}

function edges(): Edge[] {
  const result: Edge[] = [];
  for (const file of sourceFiles(src)) {
    const from = relative(src, file).split(sep)[0]!;
    if (!from.includes('.')) {
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = relative(src, resolve(dirname(file), specifier));
        if (target.startsWith('..')) throw new Error(`${relative(root, file)} imports ${specifier}, outside src/`);
        const to = target.split(sep)[0]!;
        if (!to.includes('.')) result.push({ file: relative(root, file), from, to });
      }
    }
  }
  return result;
}

function upward(all: readonly Edge[]): string[] {
  return all.filter((edge) => layerOf(edge.to) > layerOf(edge.from)).map((edge) => `${edge.file} (${edge.from}) imports ${edge.to}`);
}

describe('layering', () => {
  it('every folder of src/ has a layer', () => {
    const folders = readdirSync(src, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    for (const folder of folders) expect(() => layerOf(folder)).not.toThrow();
  });

  it('no import in src/ runs up the layer order', () => {
    const all = edges();
    // The walk must see the imports it judges, or it would pass on nothing.
    expect(all.filter((edge) => edge.from !== edge.to).length).toBeGreaterThan(20);
    expect(upward(all)).toEqual([]);
  });

  it('the check refuses an upward import and allows a downward one', () => {
    const made: Edge[] = [
      { file: 'src/ring/x.ts', from: 'ring', to: 'io' },
      { file: 'src/io/y.ts', from: 'io', to: 'ring' },
      { file: 'src/errors/z.ts', from: 'errors', to: 'diagnostics' },
      { file: 'src/buffers/w.ts', from: 'buffers', to: 'pipe' },
    ];
    expect(upward(made)).toEqual(['src/ring/x.ts (ring) imports io', 'src/buffers/w.ts (buffers) imports pipe']);
  });
});
