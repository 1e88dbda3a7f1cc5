import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PASSWORD_LENGTH } from '../../src/core/crypto/password-hasher.js';
import { checkPasswordPolicy } from '../../src/modules/settings/password-policy.js';
import { DEFAULT_SECURITY_SETTINGS } from '../../src/modules/settings/settings.schemas.js';
import {
  createTestContext,
  ROOT_PASSWORD,
  STRONG_PASSWORD,
  sessionCookie,
  type TestContext,
} from '../helpers/test-app.js';

const POLICY = DEFAULT_SECURITY_SETTINGS.passwordPolicy;
const DAY_MS = 86_400_000;

function rulesOf(password: string): string[] {
  return checkPasswordPolicy(POLICY, password).map((failure) => failure.rule ?? '');
}

describe('password policy rules (default policy)', () => {
  it('names every rule a password breaks, one entry each', () => {
    expect(rulesOf('Str0ng-Passw0rd!')).toEqual([]);
    expect(rulesOf('S0-a')).toEqual(['min_length']);
    expect(rulesOf('str0ng-passw0rd!')).toEqual(['uppercase']);
    expect(rulesOf('STR0NG-PASSW0RD!')).toEqual(['lowercase']);
    expect(rulesOf('Strong-Password!')).toEqual(['digit']);
    expect(rulesOf('Str0ngPassw0rd')).toEqual(['special']);
    expect(rulesOf('abc')).toEqual(['min_length', 'uppercase', 'digit', 'special']);
    expect(rulesOf('')).toEqual(['min_length', 'uppercase', 'lowercase', 'digit', 'special']);
  });

  it('accepts 128 characters and refuses 129 with max_length (never truncates)', () => {
    const base = 'Aa1!';
    expect(rulesOf(base.repeat(MAX_PASSWORD_LENGTH / 4))).toEqual([]);
    expect(rulesOf(`${base.repeat(MAX_PASSWORD_LENGTH / 4)}x`)).toEqual(['max_length']);
  });

  it('counts characters, not bytes, and knows non-ASCII letters and digits', () => {
    expect(rulesOf('Ärger-Über-1')).toEqual([]);
    expect(rulesOf(`Aa1!${'é'.repeat(124)}`)).toEqual([]);
  });

  it('each rule can be switched off', () => {
    const lax = {
      ...POLICY,
      minLength: 3,
      requireUppercase: false,
      requireDigit: false,
      requireSpecial: false,
    };
    expect(checkPasswordPolicy(lax, 'abc')).toEqual([]);
  });
});

describe('password policy enforcement', () => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'bob', role: 'viewer' });
  });
  afterEach(() => t.close());

  /** Changes the password of the session's own user, from `currentPassword` to `password`. */
  const changeOwn = (cookie: string) => (currentPassword: string, password: string) =>
    t.call('PUT', '/api/v1/me/password', { cookie, payload: { currentPassword, password } });

  async function setPolicy(patch: Partial<typeof POLICY>): Promise<void> {
    const security = (await t.call('GET', '/api/v1/settings/security', { cookie: root })).json();
    const res = await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: { ...security, passwordPolicy: { ...security.passwordPolicy, ...patch } },
    });
    expect(res.statusCode).toBe(200);
  }

  function expectPolicyProblem(res: { statusCode: number; json: () => unknown }, rules: string[]): void {
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; errors: Array<{ rule: string }> };
    expect(body.code).toBe('password.policy');
    expect(body.errors.map((e) => e.rule)).toEqual(rules);
  }

  it('on create, admin reset and own change alike: 400 password.policy with every failed rule', async () => {
    const create = await t.call('POST', '/api/v1/users', {
      cookie: root,
      payload: { username: 'weak', password: 'abc', role: 'viewer' },
    });
    expectPolicyProblem(create, ['min_length', 'uppercase', 'digit', 'special']);

    const reset = await t.call('PUT', '/api/v1/users/bob/password', {
      cookie: root,
      payload: { password: 'abcdefgh' },
    });
    expectPolicyProblem(reset, ['uppercase', 'digit', 'special']);

    const bob = await t.login('bob');
    const own = await t.call('PUT', '/api/v1/me/password', {
      cookie: bob,
      payload: { currentPassword: STRONG_PASSWORD, password: 'ABCDEFGH1' },
    });
    expectPolicyProblem(own, ['lowercase', 'special']);
  });

  it('a 129-character password is refused everywhere with max_length; 128 is fine', async () => {
    const long = `Aa1!${'x'.repeat(MAX_PASSWORD_LENGTH - 4)}`;
    const create = await t.call('POST', '/api/v1/users', {
      cookie: root,
      payload: { username: 'longpw', password: `${long}y`, role: 'viewer' },
    });
    expectPolicyProblem(create, ['max_length']);
    const ok = await t.call('PUT', '/api/v1/users/bob/password', {
      cookie: root,
      payload: { password: long },
    });
    expect(ok.statusCode).toBe(204);
    await t.login('bob', long);
  });

  it('no truncation: passwords equal in their first 72+ characters but different after are different', async () => {
    const prefix = `Aa1!${'p'.repeat(76)}`;
    const stored = `${prefix}-first`;
    const other = `${prefix}-other`;
    expect(stored.slice(0, 72)).toBe(other.slice(0, 72));
    await t.call('PUT', '/api/v1/users/bob/password', { cookie: root, payload: { password: stored } });
    const wrong = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'bob', password: other },
    });
    expect(wrong.statusCode).toBe(401);
    expect(
      (await t.call('POST', '/api/v1/auth/login', { payload: { username: 'bob', password: stored } }))
        .statusCode,
    ).toBe(200);
  });

  it('the current password is required for one’s own change, and wrong guesses are throttled', async () => {
    const bob = await t.login('bob');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) {
      const res = await t.call('PUT', '/api/v1/me/password', {
        cookie: bob,
        payload: { currentPassword: `Wr0ng-guess-${i}!`, password: 'An0ther-Passw0rd!' },
      });
      statuses.push(res.statusCode);
      t.clock.advance(30_000);
    }
    expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
    expect(statuses).toContain(429);
  });

  it('reuse history: none of the last N passwords again (400 password.reused)', async () => {
    await setPolicy({ historyCount: 3 });
    const bob = await t.login('bob');
    const change = changeOwn(bob);
    expect((await change(STRONG_PASSWORD, 'Sec0nd-Passw0rd!')).statusCode).toBe(200);
    t.clock.advance(1000);
    expect((await change('Sec0nd-Passw0rd!', 'Th1rd-Passw0rd!')).statusCode).toBe(200);
    t.clock.advance(1000);
    const reused = await change('Th1rd-Passw0rd!', 'Sec0nd-Passw0rd!');
    expect(reused.statusCode).toBe(400);
    expect(reused.json().code).toBe('password.reused');
    const adminReuse = await t.call('PUT', '/api/v1/users/bob/password', {
      cookie: root,
      payload: { password: 'Th1rd-Passw0rd!' },
    });
    expect(adminReuse.json().code).toBe('password.reused');
    expect((await change('Th1rd-Passw0rd!', 'F0urth-Passw0rd!')).statusCode).toBe(200);
  });

  it('password history: the current password always counts as used, even with historyCount 0', async () => {
    const bob = await t.login('bob');
    const same = await t.call('PUT', '/api/v1/me/password', {
      cookie: bob,
      payload: { currentPassword: STRONG_PASSWORD, password: STRONG_PASSWORD },
    });
    expect(same.statusCode).toBe(400);
    expect(same.json().code).toBe('password.reused');
  });

  it('password history: kept while historyCount is 0, so raising the count applies at once', async () => {
    const bob = await t.login('bob');
    const change = changeOwn(bob);
    expect((await change(STRONG_PASSWORD, 'Sec0nd-Passw0rd!')).statusCode).toBe(200);
    t.clock.advance(1000);
    expect((await change('Sec0nd-Passw0rd!', 'Th1rd-Passw0rd!')).statusCode).toBe(200);
    t.clock.advance(1000);
    await setPolicy({ historyCount: 3 });
    const back = await change('Th1rd-Passw0rd!', STRONG_PASSWORD);
    expect(back.statusCode).toBe(400);
    expect(back.json().code).toBe('password.reused');
    expect((await change('Th1rd-Passw0rd!', 'Th1rd-Passw0rd!')).json().code).toBe('password.reused');
  });

  it('max age: an expired password holds the login at password_change, where little is allowed', async () => {
    await setPolicy({ maxAgeDays: 90 });
    t.clock.advance(91 * DAY_MS);
    const login = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'bob', password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().next).toBe('password_change');
    const held = sessionCookie(login);

    expect((await t.call('GET', '/api/v1/me', { cookie: held })).json().next).toBe('password_change');
    expect(
      (await t.call('GET', '/api/v1/settings/password-policy', { cookie: held })).json().maxAgeDays,
    ).toBe(90);
    for (const [method, url] of [
      ['GET', '/api/v1/me/sessions'],
      ['DELETE', '/api/v1/me/sessions'],
      ['POST', '/api/v1/me/mfa/totp'],
      ['GET', '/api/v1/audit'],
    ] as const) {
      expect((await t.call(method, url, { cookie: held })).statusCode, `${method} ${url}`).toBe(403);
    }

    const change = await t.call('PUT', '/api/v1/me/password', {
      cookie: held,
      payload: { currentPassword: STRONG_PASSWORD, password: 'Fr3sh-Passw0rd!' },
    });
    expect(change.statusCode).toBe(200);
    expect(change.json().next).toBeNull();
    expect((await t.call('GET', '/api/v1/me/sessions', { cookie: sessionCookie(change) })).statusCode).toBe(
      200,
    );
    expect((await t.call('GET', '/api/v1/me', { cookie: held })).statusCode).toBe(401);
    const again = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'bob', password: 'Fr3sh-Passw0rd!' },
    });
    expect(again.json().next).toBeNull();
  });

  it('a held session can still log out', async () => {
    await setPolicy({ maxAgeDays: 1 });
    t.clock.advance(2 * DAY_MS);
    const held = sessionCookie(
      await t.call('POST', '/api/v1/auth/login', { payload: { username: 'bob', password: STRONG_PASSWORD } }),
    );
    expect((await t.call('POST', '/api/v1/auth/logout', { cookie: held })).statusCode).toBe(204);
  });
});
