/**
 * Signing in with SSO against a real OpenID Provider (panva's oidc-provider, test/helpers/oidc-provider.ts), the
 * provider's own login followed without a browser: provisioning, matching by verified email, role mapping at every
 * sign-in and the last-admin rule, the session it starts (cap, MFA, logout at the provider) — on SQLite and
 * PostgreSQL; then the protocol's defences (state, nonce, PKCE, replay, returnTo, an unreachable provider).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/crypto/secret-box.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { openSignInState, type SignInState, sealSignInState } from '../../src/modules/sso/sso-login.state.js';
import { ENGINES } from '../helpers/databases.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { addTestProvider } from '../helpers/sso.js';
import {
  callback,
  outcomeOf,
  SIGN_IN_HOST,
  ssoSignIn,
  startSignIn,
  testClient,
} from '../helpers/sso-sign-in.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';
import { freePort } from '../helpers/warden-process.js';

/** Provider groups → console roles, as an admin configures them. */
const ROLE_MAPPING = JSON.stringify([
  { value: 'iot-operators', role: 'operator' },
  { value: 'iot-admins', role: 'admin' },
  { value: 'auditors', role: 'viewer', scopes: ['log_management'] },
]);

let accounts = 0;
/** A fresh account id at the provider, so tests never share one. */
function account(): string {
  accounts += 1;
  return `acct-${accounts}-${randomBytes(3).toString('hex')}`;
}

async function me(t: TestContext, cookie: string) {
  const res = await t.call('GET', '/api/v1/me', { cookie });
  expect(res.statusCode).toBe(200);
  return res.json() as { user: { username: string; role: string; scopes: string[] }; next: string | null };
}

async function auditOf(t: TestContext, action: string, target?: string) {
  const { items } = await t.services.audit.list({ action, ...(target ? { target } : {}) }, 1, 100);
  return items;
}

async function setSecurity(t: TestContext, change: Record<string, unknown>): Promise<void> {
  const current = await t.services.settings.getSecurity();
  await t.services.settings.putSecurity(CLI_CONTEXT, { ...current, ...change });
}

describe.each(ENGINES)('signing in with SSO (%s)', (engine) => {
  let op: TestOidcProvider;
  let t: TestContext;

  beforeAll(async () => {
    op = await startOidcProvider({ clients: [testClient(`http://${SIGN_IN_HOST}`)] });
  });
  afterAll(async () => {
    await op?.stop();
  });
  beforeEach(async () => {
    t = await createTestContext({ engine });
  });
  afterEach(async () => {
    await t?.close();
  });

  it('lists the enabled providers for the sign-in page, to anyone', async () => {
    await addTestProvider(t.services, op);
    await addTestProvider(t.services, op, { name: 'off-op', display_name: 'Off', enabled: 0 });
    const res = await t.call('GET', '/api/v1/auth/sso/providers');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([{ name: 'test-op', displayName: 'Test OP' }]);
  });

  it('a first sign-in provisions a person with the mapped role and lands on returnTo, audited', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1, role_mapping: ROLE_MAPPING });
    const id = account();
    op.setAccount(id, {
      email: 'Olga.Ops@example.com',
      email_verified: true,
      preferred_username: 'olga',
      groups: ['iot-operators', 'staff'],
    });
    const outcome = await ssoSignIn(t, op, id, { returnTo: '/users?page=2' });
    expect(outcome.error).toBeNull();
    expect(outcome.location).toBe('/users?page=2');
    expect(outcome.session).not.toBeNull();
    const cookie = outcome.response.cookies.find((c) => c.name === 'warden_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    // The sign-in cookie is single use: cleared by the callback.
    expect(outcome.response.cookies.find((c) => c.name === 'warden_sso')?.value).toBe('');

    const signedIn = await me(t, outcome.session as string);
    expect(signedIn.next).toBeNull();
    expect(signedIn.user).toMatchObject({ username: 'olga', role: 'operator' });
    const user = await t.services.users.get('olga');
    expect(user).toMatchObject({
      email: 'Olga.Ops@example.com',
      kind: 'person',
      authMethod: 'sso',
      ssoProvider: 'test-op',
      scopes: ['asset_management', 'log_management'],
    });
    expect(user.lastLoginAt).not.toBeNull();
    const row = await t.services.userReader.findRow('olga');
    expect(row?.sso_subject).toBe(id);
    expect(row?.password_hash).toBeNull();

    // Its provider manages its password: none to change here.
    const change = await t.call('PUT', '/api/v1/me/password', {
      cookie: outcome.session as string,
      payload: { currentPassword: 'anything', password: STRONG_PASSWORD },
    });
    expect(change.statusCode).toBe(400);
    expect(change.json().code).toBe('user.sso_password');

    const [created] = await auditOf(t, 'user.create', 'user:olga');
    expect(created?.details).toMatchObject({ via: 'sso:test-op', after: { role: 'operator' } });
    const [attempt] = await auditOf(t, 'auth.sso');
    expect(attempt).toMatchObject({
      actor: { name: 'user:olga' },
      target: 'user:olga',
      outcome: 'success',
      details: { provider: 'test-op', provisioned: true, subject: id },
    });
  });

  it('a provisioned username is made valid and unique (preferred_username, then the email)', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1 });
    await t.createUser({ username: 'jose.maria', email: 'other@example.com' });
    const id = account();
    op.setAccount(id, {
      email: 'jose.maria@example.com',
      email_verified: true,
      preferred_username: 'José María',
    });
    const outcome = await ssoSignIn(t, op, id);
    expect(outcome.error).toBeNull();
    // "José María" → "Jose-Maria"; the email's "jose.maria" is taken by a local user.
    expect((await me(t, outcome.session as string)).user.username).toBe('Jose-Maria');
  });

  it('matches an SSO user by verified email, links the subject, and finds it by subject afterwards', async () => {
    await addTestProvider(t.services, op);
    await t.services.users.createSso(CLI_CONTEXT, {
      username: 'alice',
      email: 'alice@example.com',
      role: 'viewer',
      authMethod: 'sso',
      ssoProvider: 'test-op',
    });
    const id = account();
    op.setAccount(id, { email: 'ALICE@example.com', email_verified: true });
    const first = await ssoSignIn(t, op, id);
    expect(first.error).toBeNull();
    expect((await me(t, first.session as string)).user.username).toBe('alice');
    expect((await t.services.userReader.findRow('alice'))?.sso_subject).toBe(id);
    expect((await auditOf(t, 'auth.sso'))[0]?.details).toMatchObject({ linked: true });

    // The provider changes the email: the link holds.
    op.setAccount(id, { email: 'alice.new@example.com', email_verified: false });
    const second = await ssoSignIn(t, op, id);
    expect(second.error).toBeNull();
    expect((await me(t, second.session as string)).user.username).toBe('alice');
  });

  it('refuses an unverified email, an unknown person, and never converts a local user silently', async () => {
    await addTestProvider(t.services, op);
    await t.createUser({ username: 'lena', email: 'lena@example.com' });
    const unverified = account();
    op.setAccount(unverified, { email: 'lena@example.com', email_verified: false });
    const refused = await ssoSignIn(t, op, unverified);
    expect(refused.session).toBeNull();
    expect(refused.location).toBe('/login?ssoError=sso.email_unverified');

    const local = account();
    op.setAccount(local, { email: 'lena@example.com', email_verified: true });
    expect((await ssoSignIn(t, op, local)).error).toBe('sso.user_conflict');
    const lena = await t.services.userReader.findRow('lena');
    expect(lena).toMatchObject({ auth_method: 'local', sso_subject: null });
    expect(
      (
        await t.call('POST', '/api/v1/auth/login', {
          payload: { username: 'lena', password: STRONG_PASSWORD },
        })
      ).statusCode,
    ).toBe(200);

    const stranger = account();
    op.setAccount(stranger, { email: 'nobody@example.com', email_verified: true });
    expect((await ssoSignIn(t, op, stranger)).error).toBe('sso.user_unknown');

    const failures = await auditOf(t, 'auth.sso');
    expect(failures.map((event) => [event.outcome, event.details.reason, event.actor.name])).toEqual([
      ['failure', 'no_account', 'anonymous'],
      ['failure', 'local_account', 'user:lena'],
      ['failure', 'email_unverified', 'anonymous'],
    ]);
  });

  it('group changes at the provider promote and demote at the next sign-in, audited', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1, role_mapping: ROLE_MAPPING });
    const id = account();
    op.setAccount(id, { email: 'pat@example.com', email_verified: true, preferred_username: 'pat' });
    const first = await ssoSignIn(t, op, id);
    expect((await me(t, first.session as string)).user.role).toBe('viewer'); // no group: the default role

    op.setAccount(id, { email: 'pat@example.com', email_verified: true, groups: ['iot-admins', 'auditors'] });
    const promoted = await ssoSignIn(t, op, id);
    expect((await me(t, promoted.session as string)).user).toMatchObject({
      role: 'admin',
      scopes: [
        'system_config',
        'asset_management',
        'user_management',
        'log_management',
        'api_key_management',
        'sso_management',
      ],
    });

    op.setAccount(id, { email: 'pat@example.com', email_verified: true, groups: ['auditors'] });
    const demoted = await ssoSignIn(t, op, id);
    expect((await me(t, demoted.session as string)).user).toMatchObject({
      role: 'viewer',
      scopes: ['log_management'],
    });
    // Permissions are read per request: the earlier session is a viewer now too.
    expect((await me(t, promoted.session as string)).user.role).toBe('viewer');

    const updates = await auditOf(t, 'user.update', 'user:pat');
    expect(updates.map((event) => [event.outcome, event.details.via, event.details.after])).toEqual([
      ['success', 'sso:test-op', { role: 'viewer', scopes: ['log_management'] }],
      ['success', 'sso:test-op', { role: 'admin', scopes: expect.arrayContaining(['user_management']) }],
    ]);
    // The first sign-in provisioned the user with the mapped role; the next two mapped it again.
    expect((await auditOf(t, 'auth.sso')).map((event) => event.details.roleMapping ?? 'provisioned')).toEqual(
      ['changed', 'changed', 'provisioned'],
    );
  });

  it('a mapping that would demote the last user-managing admin is refused and audited; the admin still signs in', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1, role_mapping: ROLE_MAPPING });
    const id = account();
    op.setAccount(id, {
      email: 'boss@example.com',
      email_verified: true,
      preferred_username: 'boss',
      groups: ['iot-admins'],
    });
    expect((await ssoSignIn(t, op, id)).error).toBeNull();
    // The SSO admin counts as one who can sign in (its provider is enabled), so root may step aside.
    await t.services.users.deactivate(CLI_CONTEXT, 'admin');

    op.setAccount(id, { email: 'boss@example.com', email_verified: true, groups: [] });
    const again = await ssoSignIn(t, op, id);
    expect(again.error).toBeNull();
    expect((await me(t, again.session as string)).user.role).toBe('admin');
    const [refusal] = await auditOf(t, 'user.update', 'user:boss');
    expect(refusal).toMatchObject({
      outcome: 'failure',
      details: { error: 'user.last_admin', via: 'sso:test-op', refused: { role: 'viewer' } },
    });
    expect((await auditOf(t, 'auth.sso'))[0]?.details.roleMapping).toBe('kept_last_admin');
  });

  it('a deactivated SSO user is refused; so is a sign-in beyond the session cap; MFA is not asked', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1 });
    const id = account();
    op.setAccount(id, { email: 'dora@example.com', email_verified: true, preferred_username: 'dora' });
    expect((await ssoSignIn(t, op, id)).error).toBeNull();

    // MFA required for every role: a password login would be held at enrolment; an SSO sign-in is complete.
    await setSecurity(t, { mfaRequiredRoles: ['viewer', 'operator', 'admin'] });
    const withMfa = await ssoSignIn(t, op, id);
    expect((await me(t, withMfa.session as string)).next).toBeNull();

    await setSecurity(t, { mfaRequiredRoles: [], maxConcurrentSessions: 2 });
    const capped = await ssoSignIn(t, op, id);
    expect(capped.error).toBe('session.limit_reached');
    expect((await auditOf(t, 'auth.sso'))[0]?.details).toMatchObject({ reason: 'session_limit' });
    // Admins are never capped.
    expect(
      (
        await t.call('POST', '/api/v1/auth/login', {
          payload: { username: 'admin', password: ROOT_PASSWORD },
        })
      ).statusCode,
    ).toBe(200);

    await setSecurity(t, { maxConcurrentSessions: 0 });
    await t.services.users.deactivate(CLI_CONTEXT, 'dora');
    expect((await ssoSignIn(t, op, id)).error).toBe('sso.user_inactive');
  });

  it('logout of an SSO session answers the provider’s end-session URL with the ID token as hint', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1 });
    const id = account();
    op.setAccount(id, { email: 'lou@example.com', email_verified: true, preferred_username: 'lou' });
    const signedIn = await ssoSignIn(t, op, id);
    const session = (await t.services.sessions.resolve((signedIn.session as string).split('=')[1] as string))
      ?.session;
    expect(session?.sso_provider).toBe('test-op');
    expect(session?.sso_id_token_sealed).toMatch(/^v1\./);

    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { host: SIGN_IN_HOST, cookie: signedIn.session as string },
    });
    expect(logout.statusCode).toBe(200);
    const url = new URL(logout.json().endSessionUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/session/end`);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`http://${SIGN_IN_HOST}/login`);
    expect(url.searchParams.get('client_id')).toBe('warden');
    expect(url.searchParams.get('id_token_hint')?.split('.')).toHaveLength(3);
    expect((await t.call('GET', '/api/v1/me', { cookie: signedIn.session as string })).statusCode).toBe(401);
    // The provider takes the request (its confirmation page), so the hint and the return address are acceptable.
    const atProvider = await fetch(url, { redirect: 'manual' });
    expect(atProvider.status).toBe(200);
    expect(await atProvider.text()).toContain('logout');

    // A password session keeps the plain 204.
    const local = await t.login('admin', ROOT_PASSWORD);
    expect((await t.call('POST', '/api/v1/auth/logout', { cookie: local })).statusCode).toBe(204);
  });

  it('disabling a provider ends the sessions it started, audited; other sessions stay', async () => {
    await addTestProvider(t.services, op, { auto_provision: 1 });
    const signIn = async () => {
      const id = account();
      op.setAccount(id, { email: `${id}@example.com`, email_verified: true });
      return (await ssoSignIn(t, op, id)).session as string;
    };
    const [first, second] = [await signIn(), await signIn()];
    const local = await t.login('admin', ROOT_PASSWORD);
    const live = async (cookie: string) => (await t.call('GET', '/api/v1/me', { cookie })).statusCode === 200;
    expect([await live(first), await live(second), await live(local)]).toEqual([true, true, true]);
    const revokedBefore = (await auditOf(t, 'session.revoke')).length;

    await t.services.ssoProviderAdmin.update(CLI_CONTEXT, 'test-op', { enabled: false });
    expect([await live(first), await live(second), await live(local)]).toEqual([false, false, true]);
    expect((await auditOf(t, 'session.revoke')).length - revokedBefore).toBe(2);
  });
});

describe('the sign-in protocol’s defences (sqlite)', () => {
  let op: TestOidcProvider;
  let t: TestContext;

  beforeAll(async () => {
    op = await startOidcProvider({
      clients: [testClient(`http://${SIGN_IN_HOST}`, ['test-op', 'entra-op'])],
    });
  });
  afterAll(async () => {
    await op?.stop();
  });
  beforeEach(async () => {
    t = await createTestContext();
    await addTestProvider(t.services, op, { auto_provision: 1 });
  });
  afterEach(async () => {
    await t?.close();
  });

  function person(): string {
    const id = account();
    op.setAccount(id, { email: `${id}@example.com`, email_verified: true });
    return id;
  }

  it('the start redirects to the provider with PKCE S256, state and nonce, and a Lax cookie for the callback only', async () => {
    const started = await startSignIn(t, { returnTo: '/audit' });
    const url = new URL(started.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'warden',
      response_type: 'code',
      redirect_uri: `http://${SIGN_IN_HOST}/api/v1/auth/sso/test-op/callback`,
      scope: 'openid email profile groups',
      code_challenge_method: 'S256',
    });
    for (const param of ['state', 'nonce', 'code_challenge']) {
      expect(url.searchParams.get(param)?.length).toBeGreaterThanOrEqual(43);
    }
    const cookie = started.start.cookies.find((c) => c.name === 'warden_sso');
    expect(cookie).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
      path: '/api/v1/auth/sso/test-op/callback',
      maxAge: 600,
    });
    expect(cookie?.secure).toBeFalsy();
    // Nothing of it is readable: sealed.
    expect(started.stateCookie).not.toContain(url.searchParams.get('state'));
    const overTls = await startSignIn(t, { headers: { 'x-forwarded-proto': 'https' } });
    expect(overTls.start.cookies.find((c) => c.name === 'warden_sso')?.secure).toBeFalsy(); // no trusted proxy
  });

  it('returnTo is a same-origin path or nothing: other sites land on /', async () => {
    for (const [returnTo, lands] of [
      ['https://evil.example', '/'],
      ['//evil.example/x', '/'],
      ['/\\evil.example', '/'],
      ['/ok path', '/'],
      ['javascript:alert(1)', '/'],
      ['/access-roles?q=a#top', '/access-roles?q=a#top'],
    ] as const) {
      const outcome = await ssoSignIn(t, op, person(), { returnTo });
      expect(outcome.error, returnTo).toBeNull();
      expect(outcome.location, returnTo).toBe(lands);
    }
  });

  it('a tampered, missing or crossed sign-in cookie is refused (sso.state_invalid)', async () => {
    const started = await startSignIn(t);
    const back = await op.signIn(started.authorizationUrl, person());
    const value = started.stateCookie.slice('warden_sso='.length);
    const flipped = `${value.slice(0, -3)}${value.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`;
    for (const cookie of [null, `warden_sso=${flipped}`, 'warden_sso=v1.x.y.z']) {
      const outcome = outcomeOf(await callback(t, back, cookie), back, cookie ?? '');
      expect(outcome.error, String(cookie)).toBe('sso.state_invalid');
      expect(outcome.session).toBeNull();
    }
    // Another sign-in's cookie (started in another tab): its state does not match this answer.
    const other = await startSignIn(t);
    expect(outcomeOf(await callback(t, back, other.stateCookie), back, other.stateCookie).error).toBe(
      'sso.state_invalid',
    );
    // The real one still works: nothing above consumed the code.
    expect(
      outcomeOf(await callback(t, back, started.stateCookie), back, started.stateCookie).error,
    ).toBeNull();
    const reasons = (await auditOf(t, 'auth.sso')).map((event) => event.details.reason);
    expect(reasons).toEqual([
      undefined,
      'state_mismatch',
      'state_unreadable',
      'state_unreadable',
      'no_state',
    ]);
  });

  it('an expired sign-in is refused', async () => {
    const started = await startSignIn(t);
    const back = await op.signIn(started.authorizationUrl, person());
    t.clock.advance(10 * 60_000 + 1);
    expect(outcomeOf(await callback(t, back, started.stateCookie), back, started.stateCookie).error).toBe(
      'sso.state_invalid',
    );
  });

  it('a forged nonce or PKCE verifier is refused by the ID token and token checks', async () => {
    const box = createSecretBox(t.services.infra.secretKey);
    for (const forged of [
      { nonce: 'a-nonce-the-provider-never-saw-0123456789abc' },
      { codeVerifier: 'a'.repeat(43) },
    ]) {
      const started = await startSignIn(t);
      const back = await op.signIn(started.authorizationUrl, person());
      // The real sign-in, opened with the key, sealed again with one value changed: only the provider can tell.
      const real = openSignInState(
        box,
        started.stateCookie.slice('warden_sso='.length),
        'test-op',
        t.clock.now(),
      );
      expect(real).not.toBeNull();
      const cookie = `warden_sso=${sealSignInState(box, { ...(real as SignInState), ...forged })}`;
      const outcome = outcomeOf(await callback(t, back, cookie), back, cookie);
      expect(outcome.error, JSON.stringify(forged)).toBe('sso.login_failed');
      expect(outcome.session).toBeNull();
    }
    const reasons = (await auditOf(t, 'auth.sso')).map((event) => event.details.reason);
    expect(reasons).toEqual([
      'token_error:invalid_grant',
      expect.stringMatching(/^invalid_response:.*CLAIM/),
    ]);
  });

  it('a replayed callback (the same code again) is refused by the provider', async () => {
    const first = await ssoSignIn(t, op, person());
    expect(first.error).toBeNull();
    const replay = outcomeOf(await callback(t, first.back, first.stateCookie), first.back, first.stateCookie);
    expect(replay.error).toBe('sso.login_failed');
    expect(replay.session).toBeNull();
  });

  it('an error answer of the provider (access_denied) is explained, with the place to return to', async () => {
    const started = await startSignIn(t, { returnTo: '/grafana/d/1' });
    const state = new URL(started.authorizationUrl).searchParams.get('state') as string;
    const back = new URL(
      `http://${SIGN_IN_HOST}/api/v1/auth/sso/test-op/callback?error=access_denied&error_description=no&state=${state}&iss=${encodeURIComponent(op.issuer)}`,
    );
    const outcome = outcomeOf(await callback(t, back, started.stateCookie), back, started.stateCookie);
    expect(outcome.location).toBe(
      `/login?ssoError=sso.provider_denied&returnTo=${encodeURIComponent('/grafana/d/1')}`,
    );
    expect((await auditOf(t, 'auth.sso'))[0]?.details).toMatchObject({ providerError: 'access_denied' });
  });

  it('an unknown or disabled provider: a browser goes back to the sign-in page, a script gets 404', async () => {
    await addTestProvider(t.services, op, { name: 'off-op', enabled: 0 });
    for (const name of ['nope', 'off-op']) {
      const script = await t.call('GET', `/api/v1/auth/sso/${name}/start`);
      expect(script.statusCode).toBe(404);
      expect(script.json().code).toBe('sso.provider_not_enabled');
      const browser = await t.call('GET', `/api/v1/auth/sso/${name}/start`, {
        headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' },
      });
      expect(browser.statusCode).toBe(302);
      expect(browser.headers.location).toBe('/login?ssoError=sso.provider_not_enabled');
    }
  });

  it('an unreachable provider is sso.provider_unavailable (503 for a script), never a 5xx page or a fallback', async () => {
    const down = await startOidcProvider({ clients: [testClient(`http://${SIGN_IN_HOST}`, ['down-op'])] });
    await addTestProvider(t.services, down, { name: 'down-op', auto_provision: 1 });
    const id = account();
    down.setAccount(id, { email: 'dan@example.com', email_verified: true });
    const started = await startSignIn(t, { provider: 'down-op' });
    const back = await down.signIn(started.authorizationUrl, id);
    await down.stop();
    const outcome = outcomeOf(await callback(t, back, started.stateCookie), back, started.stateCookie);
    expect(outcome.error).toBe('sso.provider_unavailable');
    expect((await auditOf(t, 'auth.sso'))[0]?.details).toMatchObject({ reason: 'unreachable' });

    // Never discovered, nobody listening: the start itself.
    await addTestProvider(t.services, down, {
      name: 'gone-op',
      issuer: `http://127.0.0.1:${await freePort()}`,
    });
    const script = await t.call('GET', '/api/v1/auth/sso/gone-op/start');
    expect(script.statusCode).toBe(503);
    expect(script.json().code).toBe('sso.provider_unavailable');
    const browser = await t.call('GET', '/api/v1/auth/sso/gone-op/start', {
      headers: { 'sec-fetch-mode': 'navigate' },
    });
    expect(browser.headers.location).toBe('/login?ssoError=sso.provider_unavailable');
  });

  it('Entra ID (no email_verified): its verified-domain claim xms_edov counts, for the entra preset only', async () => {
    await addTestProvider(t.services, op, { name: 'entra-op', preset: 'entra' });
    for (const name of ['erin', 'emil']) {
      await t.services.users.createSso(CLI_CONTEXT, {
        username: name,
        email: `${name}@corp.example`,
        role: 'viewer',
        authMethod: 'sso',
        ssoProvider: name === 'erin' ? 'entra-op' : 'test-op',
      });
    }
    const erin = account();
    op.setAccount(erin, { email: 'erin@corp.example', xms_edov: true });
    const entra = await ssoSignIn(t, op, erin, { provider: 'entra-op' });
    expect(entra.error).toBeNull();
    expect((await t.services.userReader.findRow('erin'))?.sso_subject).toBe(erin);
    // Another preset does not read Microsoft's claim.
    const emil = account();
    op.setAccount(emil, { email: 'emil@corp.example', xms_edov: true });
    expect((await ssoSignIn(t, op, emil)).error).toBe('sso.email_unverified');
    // Nor does Entra without it.
    const eve = account();
    op.setAccount(eve, { email: 'erin@corp.example' });
    expect((await ssoSignIn(t, op, eve, { provider: 'entra-op' })).error).toBe('sso.email_unverified');
  });

  it('the callback is a cross-site top-level GET: the cross-site check (for state changes) does not block it', async () => {
    const started = await startSignIn(t);
    const back = await op.signIn(started.authorizationUrl, person());
    const res = await t.app.inject({
      method: 'GET',
      url: `${back.pathname}${back.search}`,
      headers: {
        host: SIGN_IN_HOST,
        cookie: started.stateCookie,
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'navigate',
        origin: op.issuer,
      },
    });
    expect(outcomeOf(res, back, started.stateCookie).session).not.toBeNull();
  });
});
