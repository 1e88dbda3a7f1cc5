/**
 * HTTP load for the benchmarks that compare a Warden route with an empty Fastify route: each server runs alone
 * in a child process (one core), the load generator (autocannon) in the parent (the other core), and rounds
 * alternate between the targets so drifting background load weighs on all of them alike.
 */
import { type ChildProcess, fork } from 'node:child_process';
import autocannon from 'autocannon';

/** One kind of request to send, again and again. */
export interface LoadTarget {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  latencies: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

/** `target` for `seconds` at `connections` concurrent connections. */
export function load(target: LoadTarget, seconds: number, connections: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: target.url,
        method: target.method ?? 'GET',
        ...(target.headers ? { headers: target.headers } : {}),
        ...(target.body === undefined ? {} : { body: target.body }),
        connections,
        duration: seconds,
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requests: result.requests.total,
          seconds: result.duration,
          latencies: { p50: result.latency.p50, p99: result.latency.p99 },
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
        });
      },
    );
  });
}

/** One target's results summed over the rounds (percentiles per round). */
export interface Side {
  requests: number;
  seconds: number;
  p50: number[];
  p99: number[];
  bad: number;
}

export const rate = (side: Side): number => side.requests / side.seconds;

/**
 * Every target for `seconds` in total, split into `rounds` that alternate between the targets, after a 2 s
 * warm-up of each (JIT, caches).
 */
export async function alternatingRounds<T extends string>(
  targets: Record<T, LoadTarget>,
  options: { seconds: number; rounds: number; connections: number },
): Promise<Record<T, Side>> {
  const names = Object.keys(targets) as T[];
  for (const name of names) await load(targets[name], 2, options.connections);
  const sides = Object.fromEntries(
    names.map((name) => [name, { requests: 0, seconds: 0, p50: [], p99: [], bad: 0 } as Side]),
  ) as Record<T, Side>;
  for (let round = 0; round < options.rounds; round += 1) {
    for (const name of names) {
      const result = await load(targets[name], options.seconds / options.rounds, options.connections);
      const side = sides[name];
      side.requests += result.requests;
      side.seconds += result.seconds;
      side.p50.push(result.latencies.p50);
      side.p99.push(result.latencies.p99);
      side.bad += result.non2xx + result.errors;
    }
  }
  return sides;
}

/**
 * Forks `script` (a benchmark file run with `--serve <kind>`) as a server process and resolves with the first
 * message it sends: at least its port.
 */
export function forkServer<M extends { port: number }>(
  script: string,
  kind: string,
): Promise<{ process: ChildProcess; message: M }> {
  const worker = fork(script, ['--serve', kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (message) => resolve({ process: worker, message: message as M }));
    worker.once('exit', (code) => reject(new Error(`bench server ${kind} exited with ${code}`)));
  });
}
