/**
 * Forward-auth behind a real nginx, configured exactly as the example of docs/forward-auth.md: Warden (API and
 * console) and a small upstream application (a node http server that echoes what reached it) on the same host.
 * An allowed request reaches the application with X-Warden-User; a denied one is 403 and never reaches it; an
 * unauthenticated one is sent to the console's login and, once signed in (through the API, and through the
 * console in Chromium), comes back; deactivation and rule changes apply to the next request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { docsNginxExample, type Nginx, nginxBinary, startNginx } from '../helpers/nginx.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { apiSignIn, submitSignIn } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

const nginx = nginxBinary();

interface Echo {
  readonly url: string;
  readonly user: string | null;
  readonly role: string | null;
}

/** The protected application: answers every request with what reached it. */
async function startEchoApp(): Promise<{ server: http.Server; hostPort: string; seen: Echo[] }> {
  const seen: Echo[] = [];
  const server = http.createServer((request, response) => {
    const echo: Echo = {
      url: request.url ?? '',
      user: (request.headers['x-warden-user'] as string | undefined) ?? null,
      role: (request.headers['x-warden-role'] as string | undefined) ?? null,
    };
    seen.push(echo);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>app</title><p id="echo">${JSON.stringify(echo)}</p>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

/** One request with the path sent exactly as written (fetch would resolve `..` and `%2e%2e` first). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method, path, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, location: response.headers.location, body }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

function echoed(answer: Answer): Echo {
  const match = /<p id="echo">(.*)<\/p>/.exec(answer.body);
  if (!match) throw new Error(`not the application's answer: ${answer.status} ${answer.body.slice(0, 200)}`);
  return JSON.parse(match[1] as string) as Echo;
}

const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe.skipIf(nginx === null)('forward-auth behind nginx (docs/forward-auth.md, real nginx)', () => {
  let warden: ConsoleServer;
  let app: Awaited<ReturnType<typeof startEchoApp>>;
  let proxy: Nginx;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    warden = await startConsoleServer();
    app = await startEchoApp();
    proxy = await startNginx(
      nginx as string,
      [new URL(warden.url).host, app.hostPort],
      docsNginxExample('forward-auth.md'),
    );
    await warden.services.accessRoles.create(CLI_CONTEXT, {
      name: 'apps',
      rules: [
        { permission: 'deny', action: 'http', path: '/app/admin/**' },
        { permission: 'allow', action: 'http', methods: ['GET', 'HEAD'], path: '/app/**' },
      ],
    });
    await warden.createUser({ username: 'uma', role: 'viewer', accessRoles: ['apps'] });
    await warden.createUser({ username: 'nora', role: 'viewer' });
  }, 240_000);

  afterAll(async () => {
    await proxy?.stop();
    await new Promise<void>((resolve) => (app ? app.server.close(() => resolve()) : resolve()));
    await warden?.close();
  });

  it('unauthenticated: 302 to the console login with the request as returnTo; the login page is served', async () => {
    const answer = await raw(proxy.url, 'GET', '/app/reports?from=2026-01-01&to=now');
    expect(answer.status, proxy.errorLog()).toBe(302);
    expect(answer.location).toMatch(/\/login\?returnTo=\/app\/reports\?from=2026-01-01&to=now$/);
    const login = await raw(proxy.url, 'GET', '/login?returnTo=/app/reports', { accept: 'text/html' });
    expect(login.status).toBe(200);
    expect(login.body).toContain('<div id="root">');
    expect(app.seen).toEqual([]);
  });

  it('signed in through the API: the request reaches the application with X-Warden-User and X-Warden-Role', async () => {
    const cookie = await apiSignIn(proxy.url, 'uma', STRONG_PASSWORD);
    // a client's own X-Warden-User never reaches the application
    const answer = await raw(proxy.url, 'GET', '/app/reports?from=2026-01-01&to=now', {
      cookie,
      'x-warden-user': 'admin',
    });
    expect(answer.status).toBe(200);
    expect(echoed(answer)).toEqual({ url: '/app/reports?from=2026-01-01&to=now', user: 'uma', role: 'apps' });
    const viaBasic = await raw(proxy.url, 'GET', '/app/x', { authorization: basic('uma', STRONG_PASSWORD) });
    expect(echoed(viaBasic).user).toBe('uma');
  });

  it('denied: 403, and the application never sees the request', async () => {
    const uma = await apiSignIn(proxy.url, 'uma', STRONG_PASSWORD);
    const nora = await apiSignIn(proxy.url, 'nora', STRONG_PASSWORD);
    const before = app.seen.length;
    for (const [cookie, method, path] of [
      [uma, 'POST', '/app/reports'],
      [uma, 'GET', '/app/admin/users'],
      [uma, 'GET', '/app//admin/users'],
      [uma, 'GET', '/app/%61dmin/users'],
      [uma, 'GET', '/app/x/../admin/users'],
      [uma, 'GET', '/app/%2e%2e/app/admin/users'],
      [uma, 'GET', '/app%2fadmin'],
      [nora, 'GET', '/app/reports'],
    ] as const) {
      const answer = await raw(proxy.url, method, path, { cookie });
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
    expect(app.seen.length).toBe(before);
    // forged proxy headers of the client do not change the request decided on
    const forged = await raw(proxy.url, 'GET', '/app/admin/users', {
      cookie: uma,
      'x-forwarded-uri': '/app/reports',
      'x-forwarded-method': 'GET',
    });
    expect(forged.status).toBe(403);
  });

  it('a rule change and a deactivation apply to the next request', async () => {
    const cookie = await apiSignIn(proxy.url, 'uma', STRONG_PASSWORD);
    expect((await raw(proxy.url, 'GET', '/app/live', { cookie })).status).toBe(200);
    const role = await warden.services.accessRoles.get('apps');
    await warden.services.accessRoles.update(CLI_CONTEXT, 'apps', {
      rules: [{ permission: 'deny', action: 'http', path: '/app/live' }, ...role.rules],
    });
    expect((await raw(proxy.url, 'GET', '/app/live', { cookie })).status).toBe(403);
    expect((await raw(proxy.url, 'GET', '/app/other', { cookie })).status).toBe(200);
    await warden.services.accessRoles.update(CLI_CONTEXT, 'apps', { rules: role.rules });

    const authorization = basic('uma', STRONG_PASSWORD);
    expect((await raw(proxy.url, 'GET', '/app/live', { authorization })).status).toBe(200);
    await warden.services.users.deactivate(CLI_CONTEXT, 'uma');
    expect((await raw(proxy.url, 'GET', '/app/live', { cookie })).status).toBe(302);
    expect((await raw(proxy.url, 'GET', '/app/live', { authorization })).status).toBe(302);
    await warden.services.users.reactivate(CLI_CONTEXT, 'uma');
  });

  describe.skipIf(!chromiumAvailable())('in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('an unauthenticated visit goes to the console login and, signed in, comes back to the request', async () => {
      const context = await browser.newContext({ locale: 'en-US' });
      try {
        const page = await context.newPage();
        await page.goto(`${proxy.url}/app/dashboard?panel=2&range=7d`);
        await page.waitForURL(/\/login\?returnTo=/);
        await submitSignIn(page, proxy.url, 'uma', STRONG_PASSWORD);
        await page.waitForURL(`${proxy.url}/app/dashboard?panel=2&range=7d`);
        const echo = JSON.parse((await page.locator('#echo').textContent()) ?? '{}') as Echo;
        expect(echo).toEqual({ url: '/app/dashboard?panel=2&range=7d', user: 'uma', role: 'apps' });
      } finally {
        await context.close();
      }
    });
  });
});
