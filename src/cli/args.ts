import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CliIo, UsageError } from './output.js';

/** One option of a command: how the parser reads it and how `--help` describes it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in the usage (`--role R`); string options only. */
  readonly value?: string;
  readonly description: string;
  /** Shown without brackets in the synopsis; the command checks it (parseArgs has no required options). */
  readonly required?: boolean;
  /** A string option that may be given several times (`--map-group a=viewer --map-group b=operator`). */
  readonly multiple?: boolean;
}

/**
 * A command (`serve`) or a subcommand (`users create`): the one declaration both the parser and the usage
 * text read, so that `--help` can never list an option the command does not take, or miss one it does.
 */
export interface CommandSpec {
  /** The words after `warden`: `users create`. */
  readonly name: string;
  /** The positional arguments as shown: `<username>`. */
  readonly args?: string;
  /** What it does, in one line. */
  readonly summary: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /**
   * Options refused with their own message rather than "unknown option", never listed: a secret that must
   * not be on the command line, where `ps` and the shell history show it.
   */
  readonly refused?: Readonly<Record<string, string>>;
  /** Whether `--json` prints the result as JSON (default yes; every command reports errors as JSON with it). */
  readonly json?: boolean;
  /** Further lines for `--help`: how options combine, examples. */
  readonly notes?: readonly string[];
}

/** `warden users …`: a command made of subcommands. */
export interface CommandGroup<K extends string = string> {
  readonly name: string;
  readonly summary: string;
  readonly subcommands: Readonly<Record<K, CommandSpec>>;
}

/** A group whose subcommands are named by their keys (`users` + `create` → `users create`). */
export function defineGroup<K extends string>(
  name: string,
  summary: string,
  subcommands: Record<K, Omit<CommandSpec, 'name'>>,
): CommandGroup<K> {
  const named = Object.fromEntries(
    Object.entries<Omit<CommandSpec, 'name'>>(subcommands).map(([sub, spec]) => [
      sub,
      { ...spec, name: `${name} ${sub}` },
    ]),
  ) as Record<K, CommandSpec>;
  return { name, summary, subcommands: named };
}

/** Whether the arguments ask for help (`--help` or `-h` before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Refuses a `refused` option by name, without repeating its value (it may be a secret). */
function refuseOptions(argv: readonly string[], spec: CommandSpec): void {
  const end = argv.indexOf('--');
  for (const arg of end === -1 ? argv : argv.slice(0, end)) {
    for (const [name, message] of Object.entries(spec.refused ?? {})) {
      if (arg === `--${name}` || arg.startsWith(`--${name}=`)) throw new UsageError(message);
    }
  }
}

/** parseArgs for `spec`, with Warden's common `--json` flag and usage errors instead of TypeErrors. */
export function parse(
  argv: readonly string[],
  spec: CommandSpec,
): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[]; json: boolean } {
  refuseOptions(argv, spec);
  const options: NonNullable<ParseArgsConfig['options']> = { json: { type: 'boolean' } };
  for (const [name, option] of Object.entries(spec.options ?? {}))
    options[name] = { type: option.type, ...(option.multiple ? { multiple: true } : {}) };
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | string[] | boolean | undefined>,
      positionals,
      json: (values as Record<string, unknown>).json === true,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${message}\n\nRun "warden ${spec.name} --help" for its options.`);
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

/** A comma-separated list flag (`--scopes a,b`, `--access-roles a,b`); an empty value is the empty list. */
export function optionalList(values: Record<string, unknown>, name: string): string[] | undefined {
  const raw = optionalString(values, name);
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** Every value of a `multiple` option, in the order given (none: the empty list). */
export function repeatedStrings(values: Record<string, unknown>, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function optionalInteger(values: Record<string, unknown>, name: string): number | undefined {
  const value = optionalString(values, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw new UsageError(`--${name} must be an integer`);
  return number;
}

/** Reads the first line of `stdin` (a password for scripts: it stays out of `ps` and the shell history). */
export async function readStdinLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of stdin) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}

/** Asks `question` on stderr and reads the answer from stdin: only `y` or `yes` is a yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr(`${question} [y/N] `);
  const answer = (await readStdinLine(io.stdin)).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
