import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ensureRootUser } from '../../src/bootstrap.js';
import { runCli } from '../../src/cli/index.js';
import type { CliIo } from '../../src/cli/output.js';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** What the invocation reads: `stdin` text (default: none) and whether stdin is a terminal (default: no). */
export interface CliInput {
  readonly stdin?: string;
  readonly tty?: boolean;
}

/** Runs one `warden` invocation in-process against `env`, capturing stdout, stderr and the exit code. */
export async function runCliCaptured(
  env: Record<string, string>,
  argv: readonly string[],
  input: CliInput = {},
): Promise<CliResult> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env,
    stdin: Readable.from(input.stdin === undefined ? [] : [input.stdin]),
    stdinIsTTY: input.tty === true,
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** A fresh data directory with a migrated database and the root user, as `warden serve` would leave it. */
export async function createCliDataDir(
  prefix: string,
): Promise<{ env: Record<string, string>; remove: () => void }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const env = { WARDEN_DATA_DIR: dataDir, WARDEN_LOG_LEVEL: 'silent' };
  const runtime = await openRuntime(loadConfig(env));
  try {
    await ensureRootUser(runtime.services, 'Root-Passw0rd!');
  } finally {
    await runtime.close();
  }
  return { env, remove: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}
