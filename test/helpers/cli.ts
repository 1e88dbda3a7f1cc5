import { runCli } from '../../src/cli/index.js';
import type { CliIo } from '../../src/cli/output.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs one `warden` invocation in-process against `env`, capturing stdout, stderr and the exit code. */
export async function runCliCaptured(
  env: Record<string, string>,
  argv: readonly string[],
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
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}
