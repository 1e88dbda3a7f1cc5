import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynsecClient } from '../../src/integrations/mosquitto-dynsec/dynsec-client.js';

/**
 * Debian's packaged plugin (docs/broker-protocols.md#dynsec-packaging-and-loading); other architectures use
 * another multiarch directory.
 */
const PLUGIN_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
];

function onPath(binary: string): boolean {
  try {
    execFileSync('which', [binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let warned = false;

/**
 * The dynamic-security plugin when `mosquitto` and `mosquitto_ctrl` are installed, else null. Missing locally:
 * the suites skip with a loud warning; missing in CI (`CI=true`): a hard failure, because there a skipped broker
 * would hide a broken integration.
 */
export function mosquittoPlugin(): string | null {
  const plugin = PLUGIN_CANDIDATES.find((candidate) => fs.existsSync(candidate)) ?? null;
  if (plugin && onPath('mosquitto') && onPath('mosquitto_ctrl')) return plugin;
  if (process.env.CI === 'true') {
    throw new Error(
      'mosquitto, mosquitto_ctrl or the dynamic-security plugin is missing in CI: install mosquitto',
    );
  }
  if (!warned) {
    warned = true;
    console.warn(
      '\n*** mosquitto / mosquitto_ctrl / mosquitto_dynamic_security.so not found: Mosquitto suites are SKIPPED ***\n',
    );
  }
  return null;
}

export interface MosquittoInstance {
  readonly url: string;
  readonly port: number;
  /** The client-certificate listener's port, when started with `clientCertificates`. */
  readonly tlsPort: number | null;
  /**
   * Replaces the CRL of the client-certificate listener and tells Mosquitto to reload (SIGHUP); the reload
   * happens soon after, not before this returns.
   */
  replaceCrl(pem: string): void;
  readonly adminUsername: string;
  readonly adminPassword: string;
  /** The broker's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
 * Starts a private Mosquitto 2 with dynamic security on a free loopback port
 * (docs/broker-protocols.md#mosquitto-in-tests): a temp directory (mode 0777, because mosquitto drops to user
 * `mosquitto` and the plugin rewrites its file there), a config with `allow_anonymous false` and no
 * persistence, and an admin made offline with `mosquitto_ctrl dynsec init` — or, with `dynsecFile`, a copy of
 * a prepared dynamic-security.json.
 */
export async function startMosquitto(
  plugin: string,
  options: {
    adminUsername?: string;
    adminPassword?: string;
    dynsecFile?: string;
    /**
     * A second listener for devices with client certificates (docs/certificates.md#mosquitto): TLS with this
     * server certificate, trusting `caFile` (Warden's CA), `require_certificate true` and
     * `use_identity_as_username true`.
     */
    clientCertificates?: { certFile: string; keyFile: string; caFile: string; crlPem?: string };
  } = {},
): Promise<MosquittoInstance> {
  const adminUsername = options.adminUsername ?? 'dynsec-admin';
  const adminPassword = options.adminPassword ?? 'Dynsec-Adm1n!';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-mosquitto-'));
  fs.chmodSync(dir, 0o777);
  const dynsecFile = path.join(dir, 'dynamic-security.json');
  if (options.dynsecFile) fs.copyFileSync(options.dynsecFile, dynsecFile);
  else
    execFileSync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, adminUsername, adminPassword], {
      stdio: 'ignore',
    });
  fs.chmodSync(dynsecFile, 0o666);
  const logFile = path.join(dir, 'mosquitto.log');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  let tlsPort: number | null = null;
  // A port just released may be handed out again: the two listeners need two different ones.
  while (options.clientCertificates && (tlsPort === null || tlsPort === port)) tlsPort = await freePort();
  const crlFile = path.join(dir, 'warden-ca.crl');
  const tlsLines: string[] = [];
  if (options.clientCertificates) {
    // Copied where user `mosquitto` can read them.
    const readable = (source: string, name: string): string => {
      const target = path.join(dir, name);
      fs.copyFileSync(source, target);
      fs.chmodSync(target, 0o644);
      return target;
    };
    const { certFile, keyFile, caFile, crlPem } = options.clientCertificates;
    // Listener options follow their `listener` line (before any, they would open the default port 1883).
    tlsLines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `certfile ${readable(certFile, 'server.pem')}`,
      `keyfile ${readable(keyFile, 'server.key')}`,
      `cafile ${readable(caFile, 'warden-ca.pem')}`,
      'require_certificate true',
      'use_identity_as_username true',
    );
    if (crlPem !== undefined) {
      fs.writeFileSync(crlFile, crlPem, { mode: 0o644 });
      tlsLines.push(`crlfile ${crlFile}`);
    }
  }
  fs.writeFileSync(
    conf,
    [
      'per_listener_settings false',
      ...tlsLines,
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${plugin}`,
      `plugin_opt_config_file ${dynsecFile}`,
      'persistence false',
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  for (
    let attempt = 0;
    !(await portOpen(port)) || (tlsPort !== null && !(await portOpen(tlsPort)));
    attempt++
  ) {
    if (attempt > 200 || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new Error(`mosquitto did not start on port ${port}:\n${log()}`);
    }
    await sleep(25);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    tlsPort,
    replaceCrl(pem) {
      fs.writeFileSync(crlFile, pem, { mode: 0o644 });
      child.kill('SIGHUP');
    },
    adminUsername,
    adminPassword,
    log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A ready dynamic-security admin session, for tests that change the broker behind Warden's back. */
export function dynsecAdmin(
  broker: Pick<MosquittoInstance, 'url' | 'adminUsername' | 'adminPassword'>,
): Promise<DynsecClient> {
  return new Promise((resolve, reject) => {
    const client = DynsecClient.connect({
      url: broker.url,
      username: broker.adminUsername,
      password: broker.adminPassword,
      timeoutMs: 5_000,
      rejectUnauthorized: true,
      reconnectPeriodMs: 0,
      onReady: () => resolve(client),
      onDown: (error) => reject(error ?? new Error('the dynsec admin session closed')),
    });
  });
}
