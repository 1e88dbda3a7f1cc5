import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, sessionCookie, type TestContext } from '../helpers/test-app.js';

const STATE_CHANGING_CROSS_SITE: Record<string, string>[] = [
  { origin: 'https://evil.example' },
  { 'sec-fetch-site': 'cross-site' },
];

async function loginAs(t: TestContext, username: string, userAgent: string, remoteAddress = '192.0.2.10') {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password: 'Str0ng-Passw0rd!' },
    headers: { 'user-agent': userAgent },
    remoteAddress,
  });
  expect(res.statusCode).toBe(200);
  return sessionCookie(res);
}

function sessionIdOf(cookie: string): string {
  return (cookie.split('=')[1] ?? '').split('.')[0] ?? '';
}

describe('own sessions', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'bob', role: 'viewer' });
  });
  afterEach(() => t.close());

  it('lists created, last seen, IP and user agent, marking the current one', async () => {
    const laptop = await loginAs(t, 'bob', 'Firefox/140', '192.0.2.10');
    t.clock.advance(60_000);
    const phone = await loginAs(t, 'bob', 'Safari/18', '198.51.100.4');
    const res = await t.call('GET', '/api/v1/me/sessions', { cookie: laptop });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ total: 2, page: 1, pageSize: 25 });
    const [newest, oldest] = body.items;
    expect(newest).toMatchObject({
      id: sessionIdOf(phone),
      username: 'bob',
      ip: '198.51.100.4',
      userAgent: 'Safari/18',
      current: false,
      stage: 'active',
    });
    expect(oldest).toMatchObject({
      id: sessionIdOf(laptop),
      ip: '192.0.2.10',
      userAgent: 'Firefox/140',
      current: true,
    });
    expect(Date.parse(oldest.createdAt)).toBeLessThan(Date.parse(newest.createdAt));
    expect(oldest.lastSeenAt).toBeDefined();
    expect(JSON.stringify(body)).not.toMatch(/token|hash/i);
  });

  it('ends one of its sessions; the ended cookie is refused at once; the action is audited', async () => {
    const laptop = await loginAs(t, 'bob', 'Firefox/140');
    const phone = await loginAs(t, 'bob', 'Safari/18');
    const res = await t.call('DELETE', `/api/v1/me/sessions/${sessionIdOf(phone)}`, { cookie: laptop });
    expect(res.statusCode).toBe(204);
    expect((await t.call('GET', '/api/v1/me', { cookie: phone })).statusCode).toBe(401);
    expect((await t.call('GET', '/api/v1/me', { cookie: laptop })).statusCode).toBe(200);
    const [event] = (await t.services.audit.list({ action: 'session.revoke' }, 1, 25)).items;
    expect(event).toMatchObject({
      actor: { name: 'user:bob' },
      target: 'user:bob',
      details: { sessions: [sessionIdOf(phone)] },
    });
  });

  it('ending the current session logs out and clears the cookie', async () => {
    const laptop = await loginAs(t, 'bob', 'Firefox/140');
    const res = await t.call('DELETE', `/api/v1/me/sessions/${sessionIdOf(laptop)}`, { cookie: laptop });
    expect(res.statusCode).toBe(204);
    expect(res.cookies.find((c) => c.name === 'warden_session')?.value).toBe('');
    expect((await t.call('GET', '/api/v1/me', { cookie: laptop })).statusCode).toBe(401);
  });

  it("cannot see or end another user's session: it answers 404 like an unknown id", async () => {
    await t.createUser({ username: 'carol', role: 'viewer' });
    const bob = await loginAs(t, 'bob', 'A');
    const carol = await loginAs(t, 'carol', 'B');
    expect((await t.call('GET', '/api/v1/me/sessions', { cookie: bob })).json().total).toBe(1);
    const foreign = await t.call('DELETE', `/api/v1/me/sessions/${sessionIdOf(carol)}`, { cookie: bob });
    const unknown = await t.call('DELETE', '/api/v1/me/sessions/no-such-session', { cookie: bob });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('session.not_found');
    expect(unknown.json().code).toBe('session.not_found');
    expect((await t.call('GET', '/api/v1/me', { cookie: carol })).statusCode).toBe(200);
  });

  it('"sign out everywhere else" ends every other session and keeps the current one', async () => {
    const laptop = await loginAs(t, 'bob', 'A');
    const phone = await loginAs(t, 'bob', 'B');
    const tablet = await loginAs(t, 'bob', 'C');
    const res = await t.call('DELETE', '/api/v1/me/sessions', { cookie: laptop });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ended: 2 });
    for (const gone of [phone, tablet])
      expect((await t.call('GET', '/api/v1/me', { cookie: gone })).statusCode).toBe(401);
    expect((await t.call('GET', '/api/v1/me/sessions', { cookie: laptop })).json().total).toBe(1);
  });

  it('a tampered cookie (changed secret, unknown id, garbage) is 401 and leaves the real session alive', async () => {
    const cookie = await loginAs(t, 'bob', 'A');
    const [name, value] = cookie.split('=') as [string, string];
    const [id, secret] = value.split('.') as [string, string];
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [`${id}.${flipped}`, `x${id}.${secret}`, `${id}`, 'garbage', `${id}.`]) {
      const res = await t.call('GET', '/api/v1/me', { cookie: `${name}=${forged}` });
      expect(res.statusCode, forged).toBe(401);
      expect(res.json().code).toBe('auth.required');
    }
    expect((await t.call('GET', '/api/v1/me', { cookie })).statusCode).toBe(200);
  });

  it('refuses cross-site state changes on sessions; same-origin and non-browser clients pass', async () => {
    const laptop = await loginAs(t, 'bob', 'A');
    const phone = await loginAs(t, 'bob', 'B');
    const url = `/api/v1/me/sessions/${sessionIdOf(phone)}`;
    for (const headers of STATE_CHANGING_CROSS_SITE) {
      const res = await t.call('DELETE', url, { cookie: laptop, headers });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('auth.cross_site');
      const bulk = await t.call('DELETE', '/api/v1/me/sessions', { cookie: laptop, headers });
      expect(bulk.statusCode).toBe(403);
      const logout = await t.call('POST', '/api/v1/auth/logout', { cookie: laptop, headers });
      expect(logout.statusCode).toBe(403);
    }
    expect((await t.call('GET', '/api/v1/me', { cookie: phone })).statusCode).toBe(200);
    // Reading is not state-changing.
    expect(
      (
        await t.call('GET', '/api/v1/me/sessions', {
          cookie: laptop,
          headers: { 'sec-fetch-site': 'cross-site' },
        })
      ).statusCode,
    ).toBe(200);
    const sameOrigin = await t.call('DELETE', url, {
      cookie: laptop,
      headers: { origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin' },
    });
    expect(sameOrigin.statusCode).toBe(204);
  });
});

describe('session lifetime', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'bob', role: 'viewer' });
    await t.createUser({ username: 'kiosk', role: 'viewer', sessionTimeoutMinutes: 5 });
  });
  afterEach(() => t.close());

  it('ends after the idle timeout (system default 30 min, or the user’s own) and drops out of the lists', async () => {
    const bob = await loginAs(t, 'bob', 'A');
    const kiosk = await loginAs(t, 'kiosk', 'B');
    const root = await t.login('admin', ROOT_PASSWORD);
    t.clock.advance(4 * 60_000);
    expect((await t.call('GET', '/api/v1/me', { cookie: kiosk })).statusCode).toBe(200);
    t.clock.advance(5 * 60_000 + 1);
    expect((await t.call('GET', '/api/v1/me', { cookie: kiosk })).statusCode).toBe(401);
    // Activity renews the idle timer.
    expect((await t.call('GET', '/api/v1/me', { cookie: bob })).statusCode).toBe(200);
    expect((await t.call('GET', '/api/v1/me', { cookie: root })).statusCode).toBe(200);
    t.clock.advance(29 * 60_000);
    expect((await t.call('GET', '/api/v1/me', { cookie: bob })).statusCode).toBe(200);
    const list = (await t.call('GET', '/api/v1/sessions', { cookie: root })).json();
    expect(list.items.map((s: { username: string }) => s.username).sort()).toEqual(['admin', 'bob']);
    t.clock.advance(30 * 60_000 + 1);
    expect((await t.call('GET', '/api/v1/me', { cookie: bob })).statusCode).toBe(401);
  });

  it('ends at the absolute lifetime (12 h) however active it is', async () => {
    const bob = await loginAs(t, 'bob', 'A');
    for (let hour = 0; hour < 12; hour += 1) {
      t.clock.advance(20 * 60_000);
      expect((await t.call('GET', '/api/v1/me', { cookie: bob })).statusCode).toBe(200);
      t.clock.advance(20 * 60_000);
      expect((await t.call('GET', '/api/v1/me', { cookie: bob })).statusCode).toBe(200);
      t.clock.advance(20 * 60_000);
      const res = await t.call('GET', '/api/v1/me', { cookie: bob });
      if (hour < 11) expect(res.statusCode).toBe(200);
      else expect(res.statusCode).toBe(401);
    }
  });
});

describe.each(ENGINES)('when a listed session expires (%s)', (engine) => {
  const MINUTE = 60_000;
  const HOUR = 60 * MINUTE;
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    await t.createUser({ username: 'bob', role: 'viewer' });
    await t.createUser({ username: 'kiosk', role: 'viewer', sessionTimeoutMinutes: 5 });
    // Longer than the absolute lifetime (and than a 32-bit count of milliseconds).
    await t.createUser({ username: 'night', role: 'viewer', sessionTimeoutMinutes: 100_000 });
  });
  afterEach(() => t.close());

  type Expiry = { idleExpiresAt: string; absoluteExpiresAt: string; expiresAt: string };
  const at = (ms: number): string => new Date(ms).toISOString();

  it('gives idleExpiresAt (last seen + the user’s idle timeout), absoluteExpiresAt and expiresAt, the earlier', async () => {
    const loggedIn = t.clock.now();
    await loginAs(t, 'bob', 'A');
    const kiosk = await loginAs(t, 'kiosk', 'B');
    await loginAs(t, 'night', 'C');
    const root = await t.login('admin', ROOT_PASSWORD);
    t.clock.advance(2 * MINUTE);

    const expiryOf = async (): Promise<Record<string, Expiry>> => {
      const res = await t.call('GET', '/api/v1/sessions', { cookie: root });
      expect(res.statusCode).toBe(200);
      return Object.fromEntries(
        res.json().items.map((s: Expiry & { username: string }) => [
          s.username,
          {
            idleExpiresAt: s.idleExpiresAt,
            absoluteExpiresAt: s.absoluteExpiresAt,
            expiresAt: s.expiresAt,
          },
        ]),
      );
    };
    const absolute = at(loggedIn + 12 * HOUR);
    const before = await expiryOf();
    expect(before.kiosk).toEqual({
      idleExpiresAt: at(loggedIn + 5 * MINUTE),
      absoluteExpiresAt: absolute,
      expiresAt: at(loggedIn + 5 * MINUTE),
    });
    expect(before.bob).toEqual({
      idleExpiresAt: at(loggedIn + 30 * MINUTE),
      absoluteExpiresAt: absolute,
      expiresAt: at(loggedIn + 30 * MINUTE),
    });
    // Idle for longer than the absolute lifetime allows: the absolute end comes first.
    expect(before.night).toEqual({
      idleExpiresAt: at(loggedIn + 100_000 * MINUTE),
      absoluteExpiresAt: absolute,
      expiresAt: absolute,
    });

    // The system default applies to users without their own timeout, as it is now.
    const security = await t.services.settings.getSecurity();
    await t.services.settings.putSecurity(CLI_CONTEXT, { ...security, defaultSessionTimeoutMinutes: 60 });
    expect((await expiryOf()).bob).toMatchObject({
      idleExpiresAt: at(loggedIn + 60 * MINUTE),
      expiresAt: at(loggedIn + 60 * MINUTE),
    });

    // Activity moves the idle end, not the absolute one.
    t.clock.advance(2 * MINUTE);
    expect((await t.call('GET', '/api/v1/me', { cookie: kiosk })).statusCode).toBe(200);
    const own = (await t.call('GET', '/api/v1/me/sessions', { cookie: kiosk })).json().items[0];
    expect(own).toMatchObject({
      lastSeenAt: at(loggedIn + 4 * MINUTE),
      idleExpiresAt: at(loggedIn + 9 * MINUTE),
      absoluteExpiresAt: absolute,
      expiresAt: at(loggedIn + 9 * MINUTE),
    });
    const viaUser = (await t.call('GET', '/api/v1/users/kiosk/sessions', { cookie: root })).json().items[0];
    expect(viaUser).toMatchObject({ idleExpiresAt: own.idleExpiresAt, expiresAt: own.expiresAt });

    // The session really ends at `expiresAt`.
    t.clock.set(Date.parse(own.expiresAt) - 1);
    expect((await t.call('GET', '/api/v1/users/kiosk/sessions', { cookie: root })).json().total).toBe(1);
    t.clock.set(Date.parse(own.expiresAt));
    expect((await t.call('GET', '/api/v1/users/kiosk/sessions', { cookie: root })).json().total).toBe(0);
  });
});

describe('sessions of other users (user_management)', () => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'bob', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  it('lists all sessions or one user’s, with the admin’s own marked current', async () => {
    await loginAs(t, 'bob', 'A');
    await loginAs(t, 'bob', 'B');
    await loginAs(t, 'otto', 'C');
    const all = (await t.call('GET', '/api/v1/sessions', { cookie: root })).json();
    expect(all.total).toBe(4);
    expect(
      all.items.filter((s: { current: boolean }) => s.current).map((s: { username: string }) => s.username),
    ).toEqual(['admin']);
    const bobs = (await t.call('GET', '/api/v1/sessions?username=BOB', { cookie: root })).json();
    expect(bobs.total).toBe(2);
    const viaUser = (await t.call('GET', '/api/v1/users/bob/sessions', { cookie: root })).json();
    expect(viaUser.items.map((s: { userAgent: string }) => s.userAgent).sort()).toEqual(['A', 'B']);
    const paged = (await t.call('GET', '/api/v1/sessions?pageSize=25&page=2', { cookie: root })).json();
    expect(paged).toMatchObject({ items: [], total: 4, page: 2 });
    expect((await t.call('GET', '/api/v1/sessions?pageSize=7', { cookie: root })).statusCode).toBe(400);
    expect((await t.call('GET', '/api/v1/users/ghost/sessions', { cookie: root })).json().code).toBe(
      'user.not_found',
    );
  });

  it('ends any one session, or all of a user’s, audited as session.revoke', async () => {
    const bobA = await loginAs(t, 'bob', 'A');
    const bobB = await loginAs(t, 'bob', 'B');
    const otto = await loginAs(t, 'otto', 'C');
    const one = await t.call('DELETE', `/api/v1/sessions/${sessionIdOf(otto)}`, { cookie: root });
    expect(one.statusCode).toBe(204);
    expect((await t.call('GET', '/api/v1/me', { cookie: otto })).statusCode).toBe(401);
    expect(
      (await t.call('DELETE', `/api/v1/sessions/${sessionIdOf(otto)}`, { cookie: root })).statusCode,
    ).toBe(404);

    const all = await t.call('DELETE', '/api/v1/users/bob/sessions', { cookie: root });
    expect(all.json()).toEqual({ ended: 2 });
    for (const cookie of [bobA, bobB])
      expect((await t.call('GET', '/api/v1/me', { cookie })).statusCode).toBe(401);
    expect((await t.call('DELETE', '/api/v1/users/ghost/sessions', { cookie: root })).statusCode).toBe(404);

    const events = (await t.services.audit.list({ action: 'session.revoke' }, 1, 25)).items;
    expect(events.map((e) => [e.actor.name, e.target, e.details.ended])).toEqual([
      ['user:admin', 'user:bob', 2],
      ['user:admin', 'user:otto', 1],
    ]);
  });

  it('viewers and operators may not list or end other users’ sessions', async () => {
    const bob = await loginAs(t, 'bob', 'A');
    const otto = await loginAs(t, 'otto', 'C');
    for (const cookie of [bob, otto]) {
      for (const [method, url] of [
        ['GET', '/api/v1/sessions'],
        ['GET', '/api/v1/users/admin/sessions'],
        ['DELETE', '/api/v1/users/admin/sessions'],
        ['DELETE', `/api/v1/sessions/${sessionIdOf(root)}`],
      ] as const) {
        const res = await t.call(method, url, { cookie });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().code).toBe('auth.forbidden');
      }
    }
    expect((await t.call('GET', '/api/v1/me', { cookie: root })).statusCode).toBe(200);
  });

  it('an admin without user_management is refused too (the scope, not the role, decides)', async () => {
    await t.createUser({ username: 'sysop', role: 'admin', scopes: ['system_config', 'log_management'] });
    const sysop = await loginAs(t, 'sysop', 'D');
    expect((await t.call('GET', '/api/v1/sessions', { cookie: sysop })).statusCode).toBe(403);
    // Own sessions stay self-service.
    expect((await t.call('GET', '/api/v1/me/sessions', { cookie: sysop })).statusCode).toBe(200);
  });

  it('without a session everything here is 401', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/me/sessions'],
      ['DELETE', '/api/v1/me/sessions'],
      ['GET', '/api/v1/sessions'],
      ['DELETE', '/api/v1/sessions/x'],
    ] as const) {
      expect((await t.call(method, url)).statusCode, `${method} ${url}`).toBe(401);
    }
  });
});
