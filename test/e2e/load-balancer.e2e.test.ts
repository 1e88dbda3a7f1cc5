import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../helpers/databases.js';
import { type Nginx, nginxBinary, startNginx } from '../helpers/nginx.js';
import { STRONG_PASSWORD } from '../helpers/test-app.js';
import {
  ADMIN_PASSWORD,
  api,
  type Cluster,
  createCluster,
  type Instance,
  until,
} from '../helpers/warden-cluster.js';

/**
 * Two `warden serve` instances on one PostgreSQL schema behind nginx, configured exactly as the example of
 * docs/deployment.md (round robin, no sticky sessions, WARDEN_TRUST_PROXY=true): a session made through nginx
 * works on whichever instance nginx picks, a write on one is read on the other, the client cannot choose its
 * address, and an instance killed outright is skipped.
 */

const url = postgresUrl();
const nginx = url === null ? null : nginxBinary();

const hostPort = (instance: Instance): string => new URL(instance.url).host;

describe.skipIf(url === null || nginx === null)('Warden instances behind nginx (real processes)', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let proxy: Nginx;
  let cookie: string;

  /**
   * The upstream addresses nginx used for the `count` requests to `uri` logged after line `from`. nginx writes
   * a request's line once the response is sent, so the client may read the log before the last line is there.
   */
  function upstreamsSince(from: number, uri: string, count: number): Promise<string[]> {
    return until(() => {
      const lines = proxy
        .accessLog()
        .slice(from)
        .filter((line) => line.split(' ')[1] === uri);
      expect(lines.length, `${uri} in the access log`).toBeGreaterThanOrEqual(count);
      return lines.map((line) => line.split(' ').slice(3).join(' '));
    }, 10_000);
  }

  beforeAll(async () => {
    cluster = await createCluster(url as string, { WARDEN_TRUST_PROXY: 'true' });
    const started = await Promise.all(['lb-a', 'lb-b'].map((name) => cluster.start(name)));
    [a, b] = started as [Instance, Instance];
    proxy = await startNginx(nginx as string, [hostPort(a), hostPort(b)]);
  }, 240_000);

  afterAll(async () => {
    await proxy?.stop();
    await cluster?.destroy();
  }, 60_000);

  it('answers /readyz through nginx from both instances', async () => {
    const from = proxy.accessLog().length;
    for (let i = 0; i < 4; i++) {
      const ready = await api(proxy.url, 'GET', '/readyz');
      expect(ready.status, proxy.errorLog()).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', changeFeed: { following: true } });
    }
    expect(new Set(await upstreamsSince(from, '/readyz', 4))).toEqual(new Set([hostPort(a), hostPort(b)]));
  });

  it('a session made through nginx works on both instances, with no stickiness', async () => {
    // A forged X-Forwarded-For is overwritten by nginx: the audit log records the address nginx saw.
    const response = await api(proxy.url, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    cookie = response.cookie as string;
    expect(cookie).toMatch(/^warden_session=/);
    const logins = await cluster.query<{ ip: string }>(
      "select ip from audit_events where action = 'auth.login' and outcome = 'success' order by id desc limit 1",
    );
    expect(logins[0]?.ip).toBe('127.0.0.1');

    for (const instance of [a, b]) {
      const me = await api(instance.url, 'GET', '/api/v1/me', { cookie });
      expect(me.status, instance.instance).toBe(200);
      expect(me.body).toMatchObject({ user: { username: 'admin' } });
    }
    const from = proxy.accessLog().length;
    for (let i = 0; i < 6; i++) {
      const me = await api(proxy.url, 'GET', '/api/v1/me', { cookie });
      expect(me.status, `request ${i + 1}`).toBe(200);
    }
    expect(new Set(await upstreamsSince(from, '/api/v1/me', 6))).toEqual(new Set([hostPort(a), hostPort(b)]));
  });

  it('a write through nginx is read back at once, whichever instance answers', async () => {
    const created = await api(proxy.url, 'POST', '/api/v1/users', {
      cookie,
      body: { username: 'through-nginx', password: STRONG_PASSWORD, role: 'viewer' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const from = proxy.accessLog().length;
    for (let i = 0; i < 2; i++) {
      const read = await api(proxy.url, 'GET', '/api/v1/users/through-nginx', { cookie });
      expect(read.status, `read ${i + 1}`).toBe(200);
    }
    expect(new Set(await upstreamsSince(from, '/api/v1/users/through-nginx', 2))).toEqual(
      new Set([hostPort(a), hostPort(b)]),
    );
  });

  it('an instance killed outright is skipped: every request still succeeds, with the same session', async () => {
    await b.kill();
    for (let i = 0; i < 6; i++) {
      const me = await api(proxy.url, 'GET', '/api/v1/me', { cookie });
      expect(me.status, `request ${i + 1}: ${proxy.errorLog()}`).toBe(200);
      expect((await api(proxy.url, 'GET', '/readyz')).status).toBe(200);
    }
  });
});
