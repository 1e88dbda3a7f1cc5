import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionCounts } from '../../src/modules/mqtt/decision-counts.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { updateUser } from '../../src/modules/users/users.repository.js';
import { emqxAuthn, goAuthUser, type ReplayRequest, vernemqRegister } from '../contracts/broker-replay.js';
import { ENGINES } from '../helpers/databases.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { idTokenFrom, jwtParts, TEST_REDIRECT_URI } from '../helpers/oidc-tokens.js';
import { addTestProvider, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/sso.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/** How many `connect` decisions of `point` ended in `result`. */
function connects(counts: DecisionCounts, point: string, result: string): number {
  let total = 0;
  counts.forEach((p, action, r, n) => {
    if (p === point && action === 'connect' && r === result) total += n;
  });
  return total;
}

describe.each(ENGINES)(
  'MQTT tokens through the broker hooks (replayed EMQX, go-auth, VerneMQ requests, %s)',
  (engine) => {
    let t: TestContext;
    let op: TestOidcProvider;
    let idToken: string;
    let wardenToken: string;

    const send = (request: ReplayRequest): Promise<LightMyRequestResponse> =>
      t.app.inject({ method: 'POST', url: request.url, headers: request.headers, payload: request.payload });
    const emqx = async (username: string, password: string, peerhost?: string) =>
      (
        await send(
          emqxAuthn({ username, password, clientid: `${username}-a`, ...(peerhost ? { peerhost } : {}) }),
        )
      ).json() as { result: string; expire_at?: number; acl?: unknown[] };
    const goAuth = async (username: string, password: string) =>
      (await send(goAuthUser({ username, password, clientid: 'c' }))).statusCode;
    const vernemq = async (username: string, password: string) =>
      (await send(vernemqRegister({ username, password, clientid: 'c' }))).json() as { result: unknown };

    beforeAll(async () => {
      t = await createTestContext({ engine });
      op = await startOidcProvider({
        clients: [
          { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, redirectUris: [TEST_REDIRECT_URI] },
        ],
      });
      op.setAccount('alice-sub', { email: 'alice@example.com', email_verified: true });
      await addTestProvider(t.services, op);
      await t.services.accessRoles.create(CLI_CONTEXT, {
        name: 'sensor',
        rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
      });
      await t.createUser({ username: 'alice', kind: 'person', accessRoles: ['sensor'] });
      await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['sensor'] });
      const alice = await t.services.userReader.mustFindRow('alice');
      await updateUser(t.services.infra.db, alice.id, {
        auth_method: 'sso',
        sso_provider: 'test-op',
        sso_subject: 'alice-sub',
      });
      idToken = await idTokenFrom(op, 'alice-sub');
      wardenToken = (await t.services.mqttTokens.issueFor(CLI_CONTEXT, 'dev-1', {})).token;
      await t.services.brokers.create(CLI_CONTEXT, { name: 'emqx-1', kind: 'emqx', config: {} });
      await t.services.brokers.create(CLI_CONTEXT, { name: 'goauth-1', kind: 'go-auth', config: {} });
      await t.services.brokers.create(CLI_CONTEXT, { name: 'vmq-1', kind: 'vernemq', config: {} });
      await t.services.brokers.start();
    });
    afterAll(async () => {
      await t?.services.brokers.stop();
      await op?.stop();
      await t?.close();
    });

    describe('EMQX authn', () => {
      it('allows a valid token with expire_at (its exp plus the clock tolerance), counted as a connect', async () => {
        const allowed = connects(t.services.mqttDecisions, 'emqx', 'allow');
        const exp = jwtParts(wardenToken).payload.exp as number;
        expect(await emqx('dev-1', wardenToken)).toEqual({
          result: 'allow',
          is_superuser: false,
          expire_at: exp + 30,
        });
        const idExp = jwtParts(idToken).payload.exp as number;
        expect(await emqx('alice', idToken)).toEqual({
          result: 'allow',
          is_superuser: false,
          expire_at: idExp + 30,
        });
        expect(connects(t.services.mqttDecisions, 'emqx', 'allow')).toBe(allowed + 2);
      });

      it('adds the acl when enabled', async () => {
        await t.services.brokers.update(CLI_CONTEXT, 'emqx-1', { config: { authnAcl: true } });
        try {
          expect(await emqx('dev-1', wardenToken)).toMatchObject({
            result: 'allow',
            expire_at: expect.any(Number),
            acl: expect.arrayContaining([
              { permission: 'allow', action: 'publish', topic: 'dt/${username}/up' },
            ]),
          });
        } finally {
          await t.services.brokers.update(CLI_CONTEXT, 'emqx-1', { config: {} });
        }
      });

      it("denies a token without the username (later hooks name the client by it), with another user's, or forged", async () => {
        const denied = connects(t.services.mqttDecisions, 'emqx', 'deny');
        expect(await emqx('', wardenToken)).toEqual({ result: 'deny' });
        expect(await emqx('', idToken)).toEqual({ result: 'deny' });
        expect(await emqx('alice', wardenToken)).toEqual({ result: 'deny' });
        expect(await emqx('dev-1', idToken)).toEqual({ result: 'deny' });
        const { header, payload, signature } = jwtParts(idToken);
        const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
        expect(
          await emqx('alice', `${encode(header)}.${encode({ ...payload, aud: 'x' })}.${signature}`),
        ).toEqual({
          result: 'deny',
        });
        expect(connects(t.services.mqttDecisions, 'emqx', 'deny')).toBe(denied + 5);
      });

      it('a cached token is answered no longer than it is valid', async () => {
        const start = t.clock.now();
        try {
          const { token } = await t.services.mqttTokens.issueFor(CLI_CONTEXT, 'dev-1', { ttlSeconds: 60 });
          // Verified (and cached for 60 s) 50 s into its minute…
          t.clock.advance(50_000);
          expect((await emqx('dev-1', token)).result).toBe('allow');
          // …yet refused once its validity (exp + 30 s) ends, 40 s later.
          t.clock.advance(40_000);
          expect(await emqx('dev-1', token)).toEqual({ result: 'deny' });
        } finally {
          t.clock.set(start);
        }
      });

      it('throttles an address after failed tokens, apart from its password budget and without blocking the account', async () => {
        const security = await t.services.settings.getSecurity();
        await t.services.settings.putSecurity(CLI_CONTEXT, {
          ...security,
          throttle: { ...security.throttle, maxAttemptsPerIp: 3 },
        });
        try {
          const bad = `${wardenToken.slice(0, -4)}AAAA`;
          for (let i = 0; i < 3; i++) expect((await emqx('dev-1', bad, '192.0.2.9')).result).toBe('deny');
          // The address's budget is spent: even a valid token from it is refused before any verification.
          expect((await emqx('dev-1', wardenToken, '192.0.2.9')).result).toBe('deny');
          const event = await t.services.infra.db
            .selectFrom('audit_events')
            .select('details')
            .where('action', '=', 'mqtt.connect')
            .orderBy('id', 'desc')
            .executeTakeFirstOrThrow();
          expect(JSON.parse(event.details)).toMatchObject({ reason: 'throttled', method: 'warden_token' });
          expect((await emqx('dev-1', wardenToken, '192.0.2.10')).result).toBe('allow');
          expect((await emqx('dev-1', STRONG_PASSWORD, '192.0.2.9')).result).toBe('allow');
          expect(await t.services.throttle.isBlocked('dev-1')).toBe(false);
        } finally {
          await t.services.settings.putSecurity(CLI_CONTEXT, security);
        }
      });
    });

    describe('go-auth user and VerneMQ auth_on_register', () => {
      // Which tokens each hook accepts: test/contracts/token-conformance.test.ts.
      it('refuse a token that passed once when its user is deactivated (the cached credential is dropped)', async () => {
        const { token } = await t.services.mqttTokens.issueFor(CLI_CONTEXT, 'dev-1', {});
        expect(await goAuth('dev-1', token)).toBe(200);
        await t.services.users.deactivate(CLI_CONTEXT, 'dev-1');
        try {
          expect(await goAuth('dev-1', token)).toBe(403);
          expect(await vernemq('dev-1', token)).toEqual({ result: { error: 'not_allowed' } });
        } finally {
          await t.services.users.reactivate(CLI_CONTEXT, 'dev-1');
        }
      });
    });
  },
);
