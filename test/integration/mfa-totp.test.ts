import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/crypto/tokens.js';
import { ENGINES } from '../helpers/databases.js';
import {
  createTestContext,
  enrolTotp,
  ROOT_PASSWORD,
  STRONG_PASSWORD,
  sessionCookie,
  type TestContext,
  totpCode,
} from '../helpers/test-app.js';

/** A user's id and MFA state as stored (no `user_mfa` row reads as no MFA at all). */
async function userRow(t: TestContext, username: string) {
  const row = await t.database.db
    .selectFrom('users')
    .leftJoin('user_mfa', 'user_mfa.user_id', 'users.id')
    .select([
      'users.id',
      'user_mfa.enabled',
      'user_mfa.enroll_required',
      'user_mfa.totp_secret',
      'user_mfa.totp_last_step',
    ])
    .where('users.username_lower', '=', username.toLowerCase())
    .executeTakeFirstOrThrow();
  return {
    id: row.id,
    mfa_enabled: row.enabled ?? 0,
    mfa_enroll_required: row.enroll_required ?? 0,
    totp_secret: row.totp_secret,
    totp_last_step: row.totp_last_step,
  };
}

async function loginResponse(t: TestContext, username: string, password = STRONG_PASSWORD) {
  return t.call('POST', '/api/v1/auth/login', { payload: { username, password } });
}

async function auditOf(t: TestContext, action: string) {
  return (await t.services.audit.list({ action }, 1, 250)).items;
}

describe('TOTP enrolment', () => {
  let t: TestContext;
  let bob: string;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'bob', role: 'operator' });
    bob = await t.login('bob');
  });
  afterEach(() => t.close());

  it('answers secret, otpauth URI and QR code, stores the secret sealed and not yet enabled', async () => {
    const res = await t.call('POST', '/api/v1/me/mfa/totp', { cookie: bob });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Warden:bob\?/);
    expect(new URL(body.otpauthUri).searchParams.get('secret')).toBe(body.secret);
    expect(body.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);

    const row = await userRow(t, 'bob');
    expect(row.mfa_enabled).toBe(0);
    expect(row.totp_secret).toMatch(/^v1\./);
    expect(row.totp_secret).not.toContain(body.secret);
    // Not enabled until confirmed: logging in asks nothing more.
    expect((await loginResponse(t, 'bob')).json().next).toBeNull();
  });

  it('confirms with a current code: ten single-use recovery codes, stored only as hashes', async () => {
    const { recoveryCodes } = await enrolTotp(t, bob);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);

    const row = await userRow(t, 'bob');
    expect(row.mfa_enabled).toBe(1);
    const stored = await t.database.db
      .selectFrom('recovery_codes')
      .select('code_hash')
      .where('user_id', '=', row.id)
      .execute();
    expect(stored).toHaveLength(10);
    const hashes = stored.map((r) => r.code_hash);
    for (const code of recoveryCodes) {
      expect(hashes).not.toContain(code);
      expect(hashes).toContain(sha256Hex(code.replaceAll('-', '')));
    }
    const me = (await t.call('GET', '/api/v1/me', { cookie: bob })).json();
    expect(me.user.mfaEnabled).toBe(true);
    const [event] = await auditOf(t, 'mfa.enroll');
    expect(event).toMatchObject({ outcome: 'success', target: 'user:bob', actor: { name: 'user:bob' } });
    expect(JSON.stringify(event)).not.toContain(recoveryCodes[0]);
  });

  it('refuses a wrong code, a confirmation without enrolment, and a second enrolment', async () => {
    const early = await t.call('POST', '/api/v1/me/mfa/totp/confirm', {
      cookie: bob,
      payload: { code: '123456' },
    });
    expect(early.statusCode).toBe(400);
    expect(early.json().code).toBe('mfa.not_started');

    const { secret } = (await t.call('POST', '/api/v1/me/mfa/totp', { cookie: bob })).json();
    const wrongCode = totpCode(secret, t.clock.now(), 5);
    const wrong = await t.call('POST', '/api/v1/me/mfa/totp/confirm', {
      cookie: bob,
      payload: { code: wrongCode },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('mfa.invalid_code');
    expect((await userRow(t, 'bob')).mfa_enabled).toBe(0);
    expect((await auditOf(t, 'mfa.enroll'))[0]).toMatchObject({
      outcome: 'failure',
      details: { reason: 'invalid_code' },
    });

    const ok = await t.call('POST', '/api/v1/me/mfa/totp/confirm', {
      cookie: bob,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(ok.statusCode).toBe(200);
    const again = await t.call('POST', '/api/v1/me/mfa/totp', { cookie: bob });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('mfa.already_enabled');
  });

  it('a sealed secret does not open for another user (bound to its row) and fails closed, not with a 500', async () => {
    await t.createUser({ username: 'carol', role: 'viewer' });
    const { secret } = await enrolTotp(t, bob);
    const carol = await t.login('carol');
    await enrolTotp(t, carol);
    const bobRow = await userRow(t, 'bob');
    const carolRow = await userRow(t, 'carol');
    await t.database.db
      .updateTable('user_mfa')
      .set({ totp_secret: bobRow.totp_secret })
      .where('user_id', '=', carolRow.id)
      .execute();

    const pending = sessionCookie(await loginResponse(t, 'carol'));
    const res = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: pending,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('auth.invalid_code');
    const [event] = await auditOf(t, 'auth.mfa');
    expect(event).toMatchObject({ outcome: 'failure', details: { reason: 'secret_unreadable' } });
  });
});

describe('MFA at login', () => {
  let t: TestContext;
  let secret: string;
  let recoveryCodes: string[];
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'bob', role: 'operator' });
    ({ secret, recoveryCodes } = await enrolTotp(t, await t.login('bob')));
  });
  afterEach(() => t.close());

  it('a correct password only opens the MFA step; the session can do nothing else until the code', async () => {
    const login = await loginResponse(t, 'bob');
    expect(login.statusCode).toBe(200);
    expect(login.json().next).toBe('mfa');
    const pending = sessionCookie(login);

    expect((await t.call('GET', '/api/v1/me', { cookie: pending })).json().next).toBe('mfa');
    for (const [method, url] of [
      ['GET', '/api/v1/me/sessions'],
      ['POST', '/api/v1/me/mfa/totp'],
      ['GET', '/api/v1/access-roles'],
    ] as const) {
      const res = await t.call(method, url, { cookie: pending });
      expect([403, 404], `${method} ${url}`).toContain(res.statusCode);
    }
    const change = await t.call('PUT', '/api/v1/me/password', {
      cookie: pending,
      payload: { currentPassword: STRONG_PASSWORD, password: 'An0ther-Passw0rd!' },
    });
    expect(change.statusCode).toBe(403);

    const done = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: pending,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ next: null, user: { username: 'bob', mfaEnabled: true } });
    // A completed step issues a new token; the one of the password step is void.
    expect((await t.call('GET', '/api/v1/me/sessions', { cookie: sessionCookie(done) })).statusCode).toBe(
      200,
    );
    expect((await t.call('GET', '/api/v1/me', { cookie: pending })).statusCode).toBe(401);
    expect((await auditOf(t, 'auth.mfa'))[0]).toMatchObject({
      outcome: 'success',
      details: { method: 'totp' },
    });
  });

  it('session fixation: a token planted before the MFA step never becomes a full session', async () => {
    // The attacker's copy of the token the password step issued (planted in the victim's browser).
    const planted = sessionCookie(await loginResponse(t, 'bob'));
    const step = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: planted,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(step.statusCode).toBe(200);
    const fresh = sessionCookie(step);
    expect(fresh).not.toBe(planted);
    for (const cookie of [planted]) {
      expect((await t.call('GET', '/api/v1/me', { cookie })).statusCode).toBe(401);
      expect((await t.call('GET', '/api/v1/me/sessions', { cookie })).statusCode).toBe(401);
    }
    const me = await t.call('GET', '/api/v1/me', { cookie: fresh });
    expect(me.json()).toMatchObject({ next: null, user: { username: 'bob' } });
    // The planted session's row is gone, not merely upgraded under a new token.
    const plantedId = planted.split('=')[1]?.split('.')[0];
    const ids = (await t.call('GET', '/api/v1/me/sessions', { cookie: fresh }))
      .json()
      .items.map((session: { id: string }) => session.id);
    expect(ids).not.toContain(plantedId);
    expect(ids).toContain(fresh.split('=')[1]?.split('.')[0]);
  });

  it('the MFA step answers 400 on a complete session', async () => {
    const root = await t.login('admin', ROOT_PASSWORD);
    const res = await t.call('POST', '/api/v1/auth/mfa', { cookie: root, payload: { code: '123456' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('auth.no_login_in_progress');
  });

  it('accepts the neighbouring time steps (clock drift) but not older ones', async () => {
    // Well past the step the enrolment consumed.
    t.clock.advance(120_000);
    const now = t.clock.now();
    const first = sessionCookie(await loginResponse(t, 'bob'));
    const stale = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: first,
      payload: { code: totpCode(secret, now, -2) },
    });
    expect(stale.statusCode).toBe(401);
    const previous = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: first,
      payload: { code: totpCode(secret, now, -1) },
    });
    expect(previous.statusCode).toBe(200);
    const second = sessionCookie(await loginResponse(t, 'bob'));
    const ahead = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: second,
      payload: { code: totpCode(secret, now, 1) },
    });
    expect(ahead.statusCode).toBe(200);
  });

  it('a code is accepted once: replaying it, even in a fresh login, fails and is audited as a replay', async () => {
    const code = totpCode(secret, t.clock.now());
    const first = sessionCookie(await loginResponse(t, 'bob'));
    expect((await t.call('POST', '/api/v1/auth/mfa', { cookie: first, payload: { code } })).statusCode).toBe(
      200,
    );
    const second = sessionCookie(await loginResponse(t, 'bob'));
    const replay = await t.call('POST', '/api/v1/auth/mfa', { cookie: second, payload: { code } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('auth.invalid_code');
    expect((await auditOf(t, 'auth.mfa'))[0]).toMatchObject({
      outcome: 'failure',
      details: { reason: 'code_already_used' },
    });
    // The next time step brings a new code that works.
    t.clock.advance(30_000);
    const next = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: second,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(next.statusCode).toBe(200);
  });

  it('a recovery code completes the login once, in any case and with or without dashes', async () => {
    const [code] = recoveryCodes as [string];
    const first = sessionCookie(await loginResponse(t, 'bob'));
    const used = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: first,
      payload: { recoveryCode: code.toUpperCase().replaceAll('-', ' ') },
    });
    expect(used.statusCode).toBe(200);
    expect((await auditOf(t, 'auth.mfa'))[0]).toMatchObject({
      outcome: 'success',
      details: { method: 'recovery_code', codesLeft: 9 },
    });
    const second = sessionCookie(await loginResponse(t, 'bob'));
    const again = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: second,
      payload: { recoveryCode: code },
    });
    expect(again.statusCode).toBe(401);
    expect((await auditOf(t, 'auth.mfa'))[0]).toMatchObject({ details: { reason: 'invalid_recovery_code' } });
  });

  it('failed codes count against the account budget, and a correct password does not refill it', async () => {
    const wrong = totpCode(secret, t.clock.now(), 7);
    const statuses: number[] = [];
    // Each login spends one attempt, each wrong code another; knowing the password must not reset the count.
    for (let i = 0; i < 6; i += 1) {
      const login = await loginResponse(t, 'bob');
      statuses.push(login.statusCode);
      if (login.statusCode !== 200) break;
      const res = await t.call('POST', '/api/v1/auth/mfa', {
        cookie: sessionCookie(login),
        payload: { code: wrong },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) break;
      // Wait out the progressive delay, never the window.
      t.clock.advance(31_000);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 401).length).toBeLessThan(10);
    const failures = await t.services.audit.list({ action: 'auth.', outcome: 'failure' }, 1, 250);
    expect(failures.items.some((e) => e.details.reason === 'throttled')).toBe(true);
    expect(failures.items.filter((e) => e.details.reason === 'invalid_code').length).toBeGreaterThan(0);
  });

  it('MFA comes before a forced password change, which comes before completion', async () => {
    await t.services.users.setPassword(
      { actor: { type: 'cli' }, ip: '', requestId: '' },
      'bob',
      STRONG_PASSWORD,
      {
        mustChange: true,
      },
    );
    const pending = sessionCookie(await loginResponse(t, 'bob'));
    const mfa = await t.call('POST', '/api/v1/auth/mfa', {
      cookie: pending,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(mfa.json().next).toBe('password_change');
    const change = await t.call('PUT', '/api/v1/me/password', {
      cookie: sessionCookie(mfa),
      payload: { currentPassword: STRONG_PASSWORD, password: 'An0ther-Passw0rd!' },
    });
    expect(change.statusCode).toBe(200);
    expect(change.json().next).toBeNull();
  });

  it('refuses a cross-site submission of the code', async () => {
    const pending = sessionCookie(await loginResponse(t, 'bob'));
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of crossSite) {
      const res = await t.call('POST', '/api/v1/auth/mfa', {
        cookie: pending,
        headers,
        payload: { code: totpCode(secret, t.clock.now()) },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('auth.cross_site');
    }
  });
});

describe('disabling and resetting MFA', () => {
  let t: TestContext;
  let bob: string;
  let secret: string;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'bob', role: 'operator' });
    bob = await t.login('bob');
    ({ secret } = await enrolTotp(t, bob));
  });
  afterEach(() => t.close());

  it('disables with a current code or with the password; a wrong proof is refused and audited', async () => {
    const wrong = await t.call('DELETE', '/api/v1/me/mfa', {
      cookie: bob,
      payload: { password: 'Wr0ng-Passw0rd!' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('mfa.invalid_code');
    const wrongCode = await t.call('DELETE', '/api/v1/me/mfa', {
      cookie: bob,
      payload: { code: totpCode(secret, t.clock.now(), 9) },
    });
    expect(wrongCode.statusCode).toBe(400);
    const failures = await t.services.audit.list({ action: 'mfa.disable', outcome: 'failure' }, 1, 25);
    expect(failures.items.map((e) => e.details.reason).sort()).toEqual(['invalid_code', 'wrong_password']);

    const byCode = await t.call('DELETE', '/api/v1/me/mfa', {
      cookie: bob,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(byCode.statusCode).toBe(204);
    const row = await userRow(t, 'bob');
    expect(row).toMatchObject({ mfa_enabled: 0, totp_secret: null, mfa_enroll_required: 0 });
    const codes = await t.database.db
      .selectFrom('recovery_codes')
      .selectAll()
      .where('user_id', '=', row.id)
      .execute();
    expect(codes).toHaveLength(0);

    await enrolTotp(t, bob);
    const byPassword = await t.call('DELETE', '/api/v1/me/mfa', {
      cookie: bob,
      payload: { password: STRONG_PASSWORD },
    });
    expect(byPassword.statusCode).toBe(204);
    expect((await t.services.audit.list({ action: 'mfa.disable', outcome: 'success' }, 1, 25)).total).toBe(2);
  });

  it('refuses to disable (403 mfa.required) while the role requires MFA', async () => {
    const root = await t.login('admin', ROOT_PASSWORD);
    const security = (await t.call('GET', '/api/v1/settings/security', { cookie: root })).json();
    await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: { ...security, mfaRequiredRoles: ['operator'] },
    });
    const res = await t.call('DELETE', '/api/v1/me/mfa', {
      cookie: bob,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('mfa.required');
    expect((await userRow(t, 'bob')).mfa_enabled).toBe(1);
  });

  it('an admin resets MFA: audited, and the user must enrol again at the next login', async () => {
    const root = await t.login('admin', ROOT_PASSWORD);
    const res = await t.call('DELETE', '/api/v1/users/bob/mfa', { cookie: root });
    expect(res.statusCode).toBe(204);
    expect(await userRow(t, 'bob')).toMatchObject({
      mfa_enabled: 0,
      totp_secret: null,
      mfa_enroll_required: 1,
    });
    const [event] = await auditOf(t, 'user.mfa_reset');
    expect(event).toMatchObject({
      actor: { name: 'user:admin' },
      target: 'user:bob',
      details: { before: { mfaEnabled: true }, after: { mfaEnabled: false } },
    });

    const login = await loginResponse(t, 'bob');
    expect(login.json().next).toBe('mfa_enroll');
    const pending = sessionCookie(login);
    const { recoveryCodes, cookie } = await enrolTotp(t, pending);
    expect(recoveryCodes).toHaveLength(10);
    expect((await t.call('GET', '/api/v1/me', { cookie })).json().next).toBeNull();
    expect((await t.call('GET', '/api/v1/me', { cookie: pending })).statusCode).toBe(401);
    expect((await userRow(t, 'bob')).mfa_enroll_required).toBe(0);

    expect((await t.call('DELETE', '/api/v1/users/ghost/mfa', { cookie: root })).statusCode).toBe(404);
  });

  it('only user_management may reset another user’s MFA', async () => {
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    for (const name of ['vera', 'otto']) {
      const cookie = await t.login(name);
      const res = await t.call('DELETE', '/api/v1/users/bob/mfa', { cookie });
      expect(res.statusCode).toBe(403);
    }
    expect((await userRow(t, 'bob')).mfa_enabled).toBe(1);
  });
});

describe('MFA required for a role', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'otto', role: 'operator' });
    const root = await t.login('admin', ROOT_PASSWORD);
    const security = (await t.call('GET', '/api/v1/settings/security', { cookie: root })).json();
    await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: { ...security, mfaRequiredRoles: ['operator'] },
    });
  });
  afterEach(() => t.close());

  it('holds the session at mfa_enroll: it may only enrol, read /me and log out', async () => {
    const login = await loginResponse(t, 'otto');
    expect(login.json().next).toBe('mfa_enroll');
    const pending = sessionCookie(login);

    expect((await t.call('GET', '/api/v1/me', { cookie: pending })).statusCode).toBe(200);
    for (const [method, url] of [
      ['GET', '/api/v1/me/sessions'],
      ['GET', '/api/v1/audit'],
      ['DELETE', '/api/v1/me/sessions'],
    ] as const) {
      expect((await t.call(method, url, { cookie: pending })).statusCode, `${method} ${url}`).toBe(403);
    }
    const change = await t.call('PUT', '/api/v1/me/password', {
      cookie: pending,
      payload: { currentPassword: STRONG_PASSWORD, password: 'An0ther-Passw0rd!' },
    });
    expect(change.statusCode).toBe(403);

    const { secret } = (await t.call('POST', '/api/v1/me/mfa/totp', { cookie: pending })).json();
    const confirm = await t.call('POST', '/api/v1/me/mfa/totp/confirm', {
      cookie: pending,
      payload: { code: totpCode(secret, t.clock.now()) },
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json().next).toBeNull();
    expect((await t.call('GET', '/api/v1/me/sessions', { cookie: sessionCookie(confirm) })).statusCode).toBe(
      200,
    );

    // From now on the login asks for the code.
    t.clock.advance(30_000);
    expect((await loginResponse(t, 'otto')).json().next).toBe('mfa');
  });

  it('logging out is always possible', async () => {
    const pending = sessionCookie(await loginResponse(t, 'otto'));
    expect((await t.call('POST', '/api/v1/auth/logout', { cookie: pending })).statusCode).toBe(204);
    expect((await t.call('GET', '/api/v1/me', { cookie: pending })).statusCode).toBe(401);
  });
});

describe.each(ENGINES)('single use under races (%s)', (engine) => {
  let t: TestContext;
  let secret: string;
  let recoveryCodes: string[];
  const RACERS = 50;

  beforeEach(async () => {
    t = await createTestContext({ engine });
    await t.createUser({ username: 'bob', role: 'operator' });
    const root = await t.login('admin', ROOT_PASSWORD);
    const security = (await t.call('GET', '/api/v1/settings/security', { cookie: root })).json();
    // The race is about the code, not the throttle: give it room.
    await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: {
        ...security,
        throttle: { maxAttemptsPerAccount: 1000, maxAttemptsPerIp: 10000, windowMinutes: 15 },
      },
    });
    ({ secret, recoveryCodes } = await enrolTotp(t, await t.login('bob')));
  });
  afterEach(() => t.close());

  async function pendingSessions(): Promise<string[]> {
    const cookies: string[] = [];
    for (let i = 0; i < RACERS; i += 1) cookies.push(sessionCookie(await loginResponse(t, 'bob')));
    return cookies;
  }

  it(`${RACERS} parallel submissions of one valid TOTP code: exactly one succeeds`, async () => {
    const cookies = await pendingSessions();
    const code = totpCode(secret, t.clock.now());
    const results = await Promise.all(
      cookies.map((cookie) => t.call('POST', '/api/v1/auth/mfa', { cookie, payload: { code } })),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The losers are refused as replays, or throttled once the replays add up.
    expect(statuses.filter((s) => s !== 200).every((s) => s === 401 || s === 429)).toBe(true);
  });

  it(`${RACERS} racing consumptions of one code in the database: exactly one wins`, async () => {
    const row = await userRow(t, 'bob');
    const code = totpCode(secret, t.clock.now());
    const outcomes = await Promise.all(
      Array.from({ length: RACERS }, () =>
        t.database.db.transaction().execute((trx) => t.services.mfa.verifyLoginFactor(trx, row.id, { code })),
      ),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'code_already_used')).toHaveLength(RACERS - 1);
  });

  it(`${RACERS} parallel submissions of one recovery code: exactly one succeeds`, async () => {
    const cookies = await pendingSessions();
    const recoveryCode = recoveryCodes[3] as string;
    const results = await Promise.all(
      cookies.map((cookie) => t.call('POST', '/api/v1/auth/mfa', { cookie, payload: { recoveryCode } })),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    const row = await userRow(t, 'bob');
    const racing = await Promise.all(
      Array.from({ length: RACERS }, () =>
        t.database.db
          .transaction()
          .execute((trx) =>
            t.services.mfa.verifyLoginFactor(trx, row.id, { recoveryCode: recoveryCodes[4] as string }),
          ),
      ),
    );
    expect(racing.filter((o) => o.ok)).toHaveLength(1);
    const used = await t.database.db
      .selectFrom('recovery_codes')
      .select('used_at')
      .where('user_id', '=', row.id)
      .where('used_at', 'is not', null)
      .execute();
    expect(used).toHaveLength(2);
  });

  it(`${RACERS} parallel confirmations of one enrolment: exactly one issues recovery codes`, async () => {
    await t.createUser({ username: 'carol', role: 'viewer' });
    const carol = await t.login('carol');
    const begin = (await t.call('POST', '/api/v1/me/mfa/totp', { cookie: carol })).json();
    const code = totpCode(begin.secret, t.clock.now());
    const results = await Promise.all(
      Array.from({ length: RACERS }, () =>
        t.call('POST', '/api/v1/me/mfa/totp/confirm', { cookie: carol, payload: { code } }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    const row = await userRow(t, 'carol');
    const codes = await t.database.db
      .selectFrom('recovery_codes')
      .select('id')
      .where('user_id', '=', row.id)
      .execute();
    expect(codes).toHaveLength(10);
  });
});
