import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A `warden serve` process, as an operator would run it, with what it printed. */
export interface WardenProcess {
  readonly child: ChildProcess;
  /** The API and console, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The embedded broker, e.g. `mqtt://127.0.0.1:41235`, or null when it is off. */
  readonly mqttUrl: string | null;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for the exit (graceful stop). */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies without any clean-up (as a crash or `kill -9`). */
  kill(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now (for listeners whose port 0 means "off", like the MQTT one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `warden serve` from the sources (no build needed) with `env` on top of the test's environment, on free
 * ports of 127.0.0.1 (the embedded broker included), and resolves once it printed where it listens.
 */
export async function startWarden(env: Record<string, string>, timeoutMs = 60_000): Promise<WardenProcess> {
  const mqttPort = String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WARDEN_HTTP_PORT: '0',
      WARDEN_HTTP_HOST: '127.0.0.1',
      WARDEN_MQTT_PORT: mqttPort,
      WARDEN_MQTT_HOST: '127.0.0.1',
      WARDEN_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    out += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`warden serve did not start:\n${out}`)), timeoutMs);
      const check = (): void => {
        if (/Warden is running: http:\/\/\S+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`warden serve exited with ${code}:\n${out}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const url = (/Warden is running: (http:\/\/\S+)/.exec(out)?.[1] ?? '').replace('localhost', '127.0.0.1');
  const mqtt = /Embedded MQTT broker[^:]*: (mqtt:\/\/\S+)/.exec(out)?.[1] ?? null;
  return {
    child,
    url,
    mqttUrl: mqtt ? mqtt.replace('localhost', '127.0.0.1') : null,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
