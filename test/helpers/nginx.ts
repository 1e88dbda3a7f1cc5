import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './warden-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

let warned = false;

/**
 * The nginx binary, or null. Missing locally: the load-balancer suite skips with a loud warning; missing in CI
 * (`CI=true`): a hard failure (.ci/run installs nginx-light).
 */
export function nginxBinary(): string | null {
  let found = CANDIDATES.find((candidate) => fs.existsSync(candidate)) ?? null;
  if (!found) {
    try {
      found = execFileSync('which', ['nginx'], { encoding: 'utf8' }).trim() || null;
    } catch {
      found = null;
    }
  }
  if (found) return found;
  if (process.env.CI === 'true') throw new Error('nginx is missing in CI: install nginx-light');
  if (!warned) {
    warned = true;
    console.warn('\n*** nginx not found: the load-balancer suite is SKIPPED (install nginx-light) ***\n');
  }
  return null;
}

/** The first `nginx` code block of a page under docs/, as published. */
export function docsNginxExample(page: string): string {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', page), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error(`docs/${page} has no nginx example`);
  return block;
}

/** The example nginx configuration of docs/deployment.md (its first `nginx` code block), as published. */
export function deploymentExample(): string {
  return docsNginxExample('deployment.md');
}

export interface Nginx {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Access log lines: `<method> <uri> <status> <upstream address(es)>`. */
  accessLog(): string[];
  /** The error log (for failure messages). */
  errorLog(): string;
  stop(): Promise<void>;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs a documented example (docs/deployment.md's by default) with the test's addresses: its `upstream` servers
 * become `upstreams` (in order), `listen 80` a free loopback port. nginx runs in the foreground with its own
 * prefix, temp paths, logs and pid file in a temp directory (no root needed), and one worker, so round robin is
 * one rotation.
 */
export async function startNginx(
  binary: string,
  upstreams: readonly string[],
  documented: string = deploymentExample(),
): Promise<Nginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-nginx-'));
  // Run as root, nginx's workers drop to an unprivileged user, who must reach the temp paths below.
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  let example = documented;
  const servers = [...example.matchAll(/^(\s*server )\S+:\d+/gm)];
  if (servers.length !== upstreams.length) {
    throw new Error(`the example has ${servers.length} upstream servers, the test ${upstreams.length}`);
  }
  let index = 0;
  example = example.replace(
    /^(\s*server )\S+:\d+/gm,
    (_, prefix: string) => `${prefix}${upstreams[index++]}`,
  );
  if (!/^\s*listen 80;$/m.test(example)) throw new Error('the example no longer listens on port 80');
  example = example.replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`);
  const accessLog = path.join(dir, 'access.log');
  const errorLog = path.join(dir, 'error.log');
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    [
      'worker_processes 1;',
      'events { worker_connections 256; }',
      'http {',
      "  log_format upstream '$request_method $request_uri $status $upstream_addr';",
      `  access_log ${accessLog} upstream;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${path.join(dir, kind)};`,
      ),
      example,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    binary,
    ['-p', `${dir}/`, '-c', conf, '-e', errorLog, '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const read = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM is nginx's fast shutdown: the master takes its worker with it.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; !(await portOpen(port)); attempt++) {
    if (attempt > 400 || child.exitCode !== null) {
      const why = `nginx did not start on ${port}:\n${stderr}\n${read(errorLog)}\n${example}`;
      await stop();
      throw new Error(why);
    }
    await sleep(25);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    accessLog: () => read(accessLog).split('\n').filter(Boolean),
    errorLog: () => read(errorLog),
    stop,
  };
}
