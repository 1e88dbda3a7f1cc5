import { AppError } from '../core/errors/app-error.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where `--password-stdin`, `--config-file -` and confirmations read from. */
  readonly stdin: NodeJS.ReadableStream;
  /** Whether a person may be typing at stdin (only then is a question asked instead of `--yes` required). */
  readonly stdinIsTTY: boolean;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  // Getters: process.stdin is created on first access, which only a command that reads it should cause.
  get stdin() {
    return process.stdin;
  },
  get stdinIsTTY() {
    return process.stdin.isTTY === true;
  },
};

/** Thrown for bad command-line usage; exits 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A column's header in words: `lastLoginAt` → `LAST LOGIN AT`, `ip` → `IP`. */
export function columnHeader(column: string): string {
  return column
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .toUpperCase();
}

/** A plain aligned text table (the CLI default; `--json` prints the data instead). */
export function formatTable(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: readonly string[],
): string {
  const cell = (value: unknown): string =>
    value === null || value === undefined ? '-' : Array.isArray(value) ? value.join(',') : String(value);
  const headers = columns.map(columnHeader);
  const widths = columns.map((column, i) =>
    Math.max(headers[i]?.length ?? 0, ...rows.map((row) => cell(row[column]).length)),
  );
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map((row) => line(columns.map((c) => cell(row[c]))))].join('\n')}\n`;
}

/** Prints either JSON or the human form, chosen by `--json`. */
export function emit(io: CliIo, json: boolean, data: unknown, human: () => string): void {
  io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : human());
}

/** Reports a failure the way scripts need it: the stable code on stderr (JSON with --json), non-zero exit. */
export function reportError(io: CliIo, json: boolean, error: unknown): number {
  if (error instanceof UsageError) {
    io.stderr(`${error.message}\n`);
    return 2;
  }
  if (error instanceof AppError) {
    if (json)
      io.stderr(
        `${JSON.stringify({ code: error.code, status: error.status, detail: error.message, errors: error.errors })}\n`,
      );
    else {
      io.stderr(`error ${error.code}: ${error.message}\n`);
      for (const item of error.errors ?? [])
        io.stderr(`  - ${item.pointer ?? item.rule ?? ''} ${item.message}\n`);
    }
    return 1;
  }
  io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
