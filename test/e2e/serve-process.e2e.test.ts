import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The newcomer path as a process: `warden serve` prints how to log in, serves, and stops cleanly on SIGTERM. */
describe('warden serve as a process', () => {
  it('prints the login once, serves the API and shuts down gracefully on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-serve-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      env: {
        ...process.env,
        WARDEN_DATA_DIR: dataDir,
        WARDEN_HTTP_PORT: '0',
        WARDEN_HTTP_HOST: '127.0.0.1',
        WARDEN_MQTT_PORT: '0',
        WARDEN_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      out += String(chunk);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start banner:\n${out}`)), 60_000);
        child.stdout.on('data', () => {
          if (out.includes('This password is shown only once')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}:\n${out}`)));
      });
      const url = /Warden is running: (http:\/\/\S+)/.exec(out)?.[1];
      const password = /password: (\S+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      const login = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(out).toContain('SIGTERM received, shutting down');
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
