// Command lines for the examples: node:util parseArgs (so `--flag=value` and `--flag value` both
// work) with `--help`, and checked numbers. A typo or a bad value prints the flag's name and exits
// with kExitUsage, the status shells use for a usage error, before the example starts any work.
import { parseArgs } from 'node:util';

export const kExitUsage = 2;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** What the value looks like in the usage text, for example `N` or `0|1`. */
  readonly value?: string;
  readonly description: string;
}

export interface CommandSpec {
  /** The command with its positional arguments, for example `node dist/examples/pgzip/main.js [input]`. */
  readonly usage: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly maxPositionals?: number;
}

export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** The smallest allowed value is itself not allowed (a positive number: `{ min: 0, exclusiveMin: true }`). */
  readonly exclusiveMin?: boolean;
}

function usageText(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage} [options]`, '', spec.summary, '', 'Options:'];
  const entries: [string, string][] = Object.entries(spec.options).map(([name, option]) => [
    `${option.short !== undefined ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`,
    option.description,
  ]);
  entries.push(['-h, --help', 'show this text and exit']);
  const width = Math.max(...entries.map(([left]) => left.length));
  for (const [left, right] of entries) lines.push(`  ${left.padEnd(width)}  ${right}`);
  return lines.join('\n') + '\n';
}

export class CommandLine {
  readonly positionals: readonly string[];
  readonly #values: Record<string, string | boolean | undefined>;

  private constructor(values: Record<string, string | boolean | undefined>, positionals: string[]) {
    this.#values = values;
    this.positionals = positionals;
  }

  /** Parses `argv` (the arguments after the script); on `--help` prints the usage and exits 0. */
  static parse(spec: CommandSpec, argv: readonly string[] = process.argv.slice(2)): CommandLine {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
    for (const [name, option] of Object.entries(spec.options)) {
      options[name] = option.short !== undefined ? { type: option.type, short: option.short } : { type: option.type };
    }
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
      parsed = parseArgs({ args: [...argv], options, allowPositionals: (spec.maxPositionals ?? 0) > 0, strict: true }) as typeof parsed;
    } catch (error) {
      // parseArgs names the flag; its advice about `--` only matters for positionals starting with '-'.
      const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error);
      return fail(message);
    }
    if (parsed.values.help === true) {
      process.stdout.write(usageText(spec));
      process.exit(0);
    }
    if (parsed.positionals.length > (spec.maxPositionals ?? 0)) {
      return fail(`unexpected argument '${parsed.positionals[spec.maxPositionals ?? 0]}'`);
    }
    return new CommandLine(parsed.values, parsed.positionals);
  }

  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const value = this.#values[name];
    return typeof value === 'string' ? value : fallback;
  }

  /** The option as a number within `rule`, or `fallback` when it is absent; anything else is a usage error. */
  number(name: string, fallback: number, rule: NumberRule = {}): number {
    const text = this.string(name);
    if (text === undefined) return fallback;
    const value = text.trim() === '' ? Number.NaN : Number(text);
    const { min, max, integer = false, exclusiveMin = false } = rule;
    const bad =
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      (min !== undefined && (exclusiveMin ? value <= min : value < min)) ||
      (max !== undefined && value > max);
    if (!bad) return value;
    const kind = integer ? 'an integer' : 'a number';
    const range =
      min !== undefined && max !== undefined && !exclusiveMin ? ` from ${min} to ${max}`
      : min !== undefined ? ` ${exclusiveMin ? 'greater than' : 'at least'} ${min}${max !== undefined ? ` and at most ${max}` : ''}`
      : max !== undefined ? ` at most ${max}`
      : '';
    return this.fail(`--${name} takes ${kind}${range}, got '${text}'`);
  }

  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(name: string, fallback: T, choices: readonly T[]): T {
    const text = this.string(name);
    if (text === undefined) return fallback;
    if ((choices as readonly string[]).includes(text)) return text as T;
    return this.fail(`--${name} takes ${choices.join(' or ')}, got '${text}'`);
  }

  /** A usage error found after parsing (two options that do not go together, a missing input). */
  fail(message: string): never {
    return fail(message);
  }
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\nRun with --help for the options.\n`);
  process.exit(kExitUsage);
}
