import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './output.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with Warden's common `--json` flag and usage errors instead of TypeErrors. */
export function parse<O extends OptionSpec>(
  argv: readonly string[],
  options: O,
): { values: Record<string, string | boolean | undefined>; positionals: string[]; json: boolean } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | undefined>,
      positionals,
      json: (values as Record<string, unknown>).json === true,
    };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function requirePositional(positionals: readonly string[], index: number, name: string): string {
  const value = positionals[index];
  if (value === undefined) throw new UsageError(`missing <${name}>`);
  return value;
}

export function optionalString(values: Record<string, unknown>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function optionalInteger(values: Record<string, unknown>, name: string): number | undefined {
  const value = optionalString(values, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw new UsageError(`--${name} must be an integer`);
  return number;
}

/** Reads a password from the first line of stdin (for scripts: keeps it out of `ps` and shell history). */
export async function readStdinLine(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let data = '';
  for await (const chunk of stdin) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}
