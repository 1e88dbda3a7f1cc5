import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FetchImplementation } from 'jose';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { updateSsoProvider } from '../../src/modules/sso/sso-providers.repository.js';
import { updateUser } from '../../src/modules/users/users.repository.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { inbox, mqttClients } from '../helpers/mqtt-inbox.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import {
  compactJwt,
  idTokenFrom,
  jwtParts,
  startTokenIssuer,
  TEST_REDIRECT_URI,
  type TestTokenIssuer,
} from '../helpers/oidc-tokens.js';
import { addTestProvider, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/sso.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const run = promisify(execFile);

/** Waits for something the broker does asynchronously (a close, a delivery); never asserts on time. */
const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 5_000, interval: 10 });

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

/** A second client of the test OP: tokens for it carry another audience. */
const OTHER_CLIENT = { clientId: 'other-app', clientSecret: 'other-client-secret-0123456789' };
/** Key sets are fetched again for an unknown `kid` at most once per this (real time). */
const COOLDOWN_MS = 1_000;

describe('MQTT with tokens on the embedded broker (real OpenID Provider, real mqtt.js and mosquitto_pub)', () => {
  let t: TestContext;
  let broker: EmbeddedBroker;
  let url: string;
  let op: TestOidcProvider;
  let strangerOp: TestOidcProvider;
  let issuer: TestTokenIssuer;
  let jwksFetches = 0;
  const clients = mqttClients(() => url);

  const countingFetch: FetchImplementation = (input, init) => {
    jwksFetches++;
    return fetch(input, init);
  };

  const connect = (username: string, password: string, options: IClientOptions = {}) =>
    clients.connect(username, password, options);

  /** The CONNACK code a refused CONNECT got (throws when it was accepted). */
  async function refusal(username: string, password: string): Promise<number> {
    const error = await connect(username, password).then(
      () => null,
      (e: unknown) => e as { code?: number },
    );
    if (error === null) throw new Error('connection was accepted');
    return error.code ?? -1;
  }

  /** The latest `mqtt.connect` audit event (by id: some tests move the clock back and forth). */
  async function lastConnect(): Promise<{
    outcome: string;
    actor: string;
    details: Record<string, unknown>;
  }> {
    const event = await t.services.infra.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'mqtt.connect')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    return { outcome: event.outcome, actor: event.actor_name, details: JSON.parse(event.details) };
  }

  /** Makes a user an SSO user of `provider`, linked to `subject` (null: not linked yet), as sign-in would. */
  async function ssoUser(username: string, provider: string, subject: string | null): Promise<void> {
    const row = await t.services.userReader.mustFindRow(username);
    await updateUser(t.services.infra.db, row.id, {
      auth_method: 'sso',
      sso_provider: provider,
      sso_subject: subject,
    });
  }

  beforeAll(async () => {
    t = await createTestContext({ providerKeys: { cooldownMs: COOLDOWN_MS, fetch: countingFetch } });
    op = await startOidcProvider({
      clients: [
        { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, redirectUris: [TEST_REDIRECT_URI] },
        { ...OTHER_CLIENT, redirectUris: [TEST_REDIRECT_URI] },
      ],
    });
    strangerOp = await startOidcProvider({
      clients: [
        { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, redirectUris: [TEST_REDIRECT_URI] },
      ],
    });
    issuer = await startTokenIssuer();
    await addTestProvider(t.services, op);
    await addTestProvider(t.services, op, { name: 'corp', issuer: issuer.issuer });
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/+' },
        { permission: 'allow', action: 'subscribe', topic: 'dt/#' },
      ],
    });
    for (const username of ['alice', 'bob', 'erin', 'frank', 'watcher'])
      await t.createUser({ username, kind: 'person', accessRoles: ['sensor'] });
    const emails = { carol: 'carol@example.com', dave: 'dave@example.com', dave2: 'dave@example.com' };
    for (const [username, email] of Object.entries(emails))
      await t.createUser({ username, kind: 'person', email, accessRoles: ['sensor'] });
    await ssoUser('alice', 'test-op', 'alice-sub');
    await ssoUser('bob', 'test-op', 'bob-sub');
    await ssoUser('carol', 'corp', null);
    await ssoUser('dave', 'corp', null);
    await ssoUser('dave2', 'corp', null);
    await ssoUser('erin', 'test-op', 'erin-sub');
    // frank was switched back to a local account: the provider's tokens no longer stand for him.
    await ssoUser('frank', 'test-op', 'frank-sub');
    await updateUser(t.services.infra.db, (await t.services.userReader.mustFindRow('frank')).id, {
      auth_method: 'local',
    });
    for (const id of ['alice-sub', 'bob-sub', 'erin-sub', 'frank-sub', 'nobody-sub'])
      op.setAccount(id, { email: `${id}@example.com`, email_verified: true });
    strangerOp.setAccount('alice-sub', { email: 'alice-sub@example.com', email_verified: true });
    broker = await startLocalBroker(t.services);
    url = broker.url as string;
  });

  afterEach(async () => {
    await clients.closeAll();
    await until(() => expect(t.services.mqttConnections.size).toBe(0));
  });

  afterAll(async () => {
    await broker?.close();
    await Promise.all([op?.stop(), strangerOp?.stop(), issuer?.stop()]);
    await t?.close();
  });

  describe("a provider's ID token as password", () => {
    it('connects the linked user, with its username or none, and its access role decides', async () => {
      const token = await idTokenFrom(op, 'alice-sub');
      const watcher = await connect('watcher', STRONG_PASSWORD);
      const messages = inbox(watcher);
      await watcher.subscribeAsync('dt/#');
      const named = await connect('alice', token);
      const anonymous = await connect('', token);
      expect(t.services.mqttConnections.ofUser('alice')).toHaveLength(2);
      await named.publishAsync('dt/alice/t', 'named', { qos: 1 });
      await anonymous.publishAsync('dt/alice/t', 'unnamed', { qos: 1 });
      // Not alice's topic: acknowledged and dropped.
      await named.publishAsync('dt/bob/t', 'not mine', { qos: 1 });
      await until(() => expect(messages.map((m) => m.payload).sort()).toEqual(['named', 'unnamed']));
      expect(await lastConnect()).toMatchObject({
        outcome: 'success',
        actor: 'user:alice',
        details: { method: 'oidc_token', provider: 'test-op' },
      });
    });

    it("refuses another user's name, an unlinked subject and a local user's subject (CONNACK 4)", async () => {
      expect(await refusal('bob', await idTokenFrom(op, 'alice-sub'))).toBe(4);
      expect(await lastConnect()).toMatchObject({
        outcome: 'failure',
        actor: 'user:alice',
        details: { reason: 'username_mismatch', connectUsername: 'bob' },
      });
      expect(await refusal('', await idTokenFrom(op, 'nobody-sub'))).toBe(4);
      expect((await lastConnect()).details.reason).toBe('no_linked_user');
      expect(await refusal('frank', await idTokenFrom(op, 'frank-sub'))).toBe(4);
      expect((await lastConnect()).details.reason).toBe('no_linked_user');
    });

    it('refuses an expired token, and closes a live connection when its token expires', async () => {
      const token = await idTokenFrom(op, 'alice-sub');
      const exp = (jwtParts(token).payload.exp as number) * 1000;
      const start = t.clock.now();
      try {
        const client = await connect('alice', token);
        const gone = closed(client);
        // Still valid within the 30 s allowed for clock skew…
        t.clock.set(exp + 29_000);
        expect(client.connected).toBe(true);
        // …and closed when that ends: the broker's timer runs on Warden's clock.
        t.clock.set(exp + 30_000);
        await gone;
        expect(await refusal('alice', token)).toBe(4);
        expect((await lastConnect()).details).toMatchObject({ reason: 'token_expired', provider: 'test-op' });
      } finally {
        t.clock.set(start);
      }
    });

    it('refuses a token of another issuer, for another client, tampered, unsigned or with an unknown key', async () => {
      const good = await idTokenFrom(op, 'alice-sub');
      const { header, payload, signature } = jwtParts(good);
      const refusedFor = async (token: string) => {
        expect(await refusal('alice', token)).toBe(4);
        return (await lastConnect()).details.reason;
      };
      expect(await refusedFor(await idTokenFrom(strangerOp, 'alice-sub'))).toBe('unknown_issuer');
      expect(await refusedFor(await idTokenFrom(op, 'alice-sub', OTHER_CLIENT))).toBe('token_audience');
      expect(await refusedFor(compactJwt(header, { ...payload, sub: 'bob-sub' }, signature))).toBe(
        'token_signature',
      );
      expect(await refusedFor(compactJwt({ alg: 'none' }, payload, ''))).toBe('token_algorithm');
      expect(await refusedFor(compactJwt({ ...header, kid: 'made-up' }, payload, signature))).toBe(
        'token_unknown_key',
      );
      // The genuine token still works: none of the above left anything behind.
      expect((await connect('alice', good)).connected).toBe(true);
    });

    it("accepts a token signed with the provider's new key after a rotation; unknown keys cost at most one fetch per cooldown", async () => {
      expect((await connect('alice', await idTokenFrom(op, 'alice-sub'))).connected).toBe(true);
      await op.rotateKeys();
      const rotated = await idTokenFrom(op, 'alice-sub');
      const { header, payload, signature } = jwtParts(rotated);
      const before = jwksFetches;
      for (let i = 0; i < 20; i++)
        await refusal('alice', compactJwt({ ...header, kid: `flood-${i}` }, payload, signature));
      expect(jwksFetches - before).toBeLessThanOrEqual(1);
      // Once the cooldown has passed, the new key is fetched and the token accepted.
      await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 100));
      expect((await connect('alice', rotated)).connected).toBe(true);
    });

    it('closes the connections of a deactivated user, and refuses its token at the next CONNECT', async () => {
      const token = await idTokenFrom(op, 'erin-sub');
      const client = await connect('erin', token);
      const gone = closed(client);
      await t.services.users.deactivate(CLI_CONTEXT, 'erin');
      await gone;
      expect(await refusal('erin', token)).toBe(4);
      expect((await lastConnect()).details.reason).toBe('inactive');
    });

    it("stops a disabled provider's tokens, cached ones included", async () => {
      const token = await idTokenFrom(op, 'bob-sub');
      expect((await connect('bob', token)).connected).toBe(true);
      await updateSsoProvider(t.services.infra.db, 'test-op', { enabled: 0 });
      try {
        // The list of enabled providers is read at most once a second.
        t.clock.advance(1_000);
        expect(await refusal('bob', token)).toBe(4);
        expect((await lastConnect()).details.reason).toBe('unknown_issuer');
      } finally {
        await updateSsoProvider(t.services.infra.db, 'test-op', { enabled: 1 });
        t.clock.advance(1_000);
      }
      expect((await connect('bob', token)).connected).toBe(true);
    });

    it('answers "server unavailable" (CONNACK 3) while a provider cannot be reached', async () => {
      const down = await startOidcProvider({ clients: [] });
      await down.stop();
      await addTestProvider(t.services, down, { name: 'down' });
      t.clock.advance(1_000);
      const token = await issuer.sign({ iss: down.issuer, aud: TEST_CLIENT_ID, sub: 'x', exp: 9e9 });
      expect(await refusal('alice', token)).toBe(3);
      expect((await lastConnect()).details).toMatchObject({
        reason: 'provider_unavailable',
        provider: 'down',
      });
    });
  });

  describe("tokens of a provider with chosen claims (the test issuer's own keys)", () => {
    const now = () => Math.floor(t.clock.now() / 1000);
    const claims = (extra: Record<string, unknown>) => ({
      iss: issuer.issuer,
      aud: TEST_CLIENT_ID,
      exp: now() + 300,
      ...extra,
    });

    it('maps an SSO user not linked yet by the email the provider marks verified', async () => {
      const verified = await issuer.sign(
        claims({ sub: 'c-1', email: 'Carol@Example.com', email_verified: true }),
      );
      expect((await connect('', verified)).connected).toBe(true);
      expect(t.services.mqttConnections.ofUser('carol')).toHaveLength(1);
      const unverified = await issuer.sign(
        claims({ sub: 'c-2', email: 'carol@example.com', email_verified: false }),
      );
      expect(await refusal('carol', unverified)).toBe(4);
      expect((await lastConnect()).details.reason).toBe('no_linked_user');
      // Two SSO users of the provider with that address: which one is meant cannot be told.
      const twice = await issuer.sign(
        claims({ sub: 'd-1', email: 'dave@example.com', email_verified: true }),
      );
      expect(await refusal('dave', twice)).toBe(4);
      expect((await lastConnect()).details.reason).toBe('ambiguous_email');
    });

    it('accepts an access token in JWT form for the client; refuses other token types and bad times', async () => {
      const access = await issuer.sign(
        claims({
          sub: 'c-1',
          aud: ['api', TEST_CLIENT_ID],
          email: 'carol@example.com',
          email_verified: true,
        }),
        { typ: 'at+jwt' },
      );
      expect((await connect('carol', access)).connected).toBe(true);
      const refusedFor = async (token: string) => {
        expect(await refusal('carol', token)).toBe(4);
        return (await lastConnect()).details.reason;
      };
      const base = { sub: 'c-1', email: 'carol@example.com', email_verified: true };
      expect(await refusedFor(await issuer.sign(claims(base), { typ: 'logout+jwt' }))).toBe('token_type');
      expect(await refusedFor(await issuer.sign(claims({ ...base, aud: 'api' })))).toBe('token_audience');
      expect(await refusedFor(await issuer.sign(claims({ ...base, nbf: now() + 60 })))).toBe(
        'token_not_yet_valid',
      );
      expect(await refusedFor(await issuer.sign({ ...claims(base), exp: undefined }))).toBe('token_claims');
      expect(await refusedFor(await issuer.sign(claims({ email: 'carol@example.com' })))).toBe(
        'token_claims',
      );
    });
  });

  describe('Warden MQTT tokens', () => {
    async function mint(
      username: string,
      ttlSeconds?: number,
    ): Promise<{ token: string; expiresAt: string }> {
      const cookie = await t.login(username, username === 'admin' ? ROOT_PASSWORD : STRONG_PASSWORD);
      const response = await t.call('POST', '/api/v1/me/mqtt-token', {
        cookie,
        payload: ttlSeconds === undefined ? {} : { ttlSeconds },
      });
      expect(response.statusCode).toBe(200);
      return response.json() as { token: string; expiresAt: string };
    }

    it('a token from the API connects mqtt.js (with the username or none) and the real mosquitto_pub', async () => {
      const { token } = await mint('watcher');
      const listener = await connect('alice', await idTokenFrom(op, 'alice-sub'));
      const messages = inbox(listener);
      await listener.subscribeAsync('dt/#', { qos: 1 });
      const client = await connect('', token);
      await client.publishAsync('dt/watcher/a', 'from mqtt.js', { qos: 1 });
      const port = new URL(url).port;
      await run('mosquitto_pub', [
        ...['-h', '127.0.0.1', '-p', port, '-V', 'mqttv311', '-q', '1'],
        ...['-u', 'watcher', '-P', token, '-t', 'dt/watcher/b', '-m', 'from mosquitto_pub'],
      ]);
      await until(() =>
        expect(messages.map((m) => m.payload).sort()).toEqual(['from mosquitto_pub', 'from mqtt.js']),
      );
      expect((await lastConnect()).details).toMatchObject({
        method: 'warden_token',
        jti: expect.any(String),
      });
      // A refused CONNECT makes mosquitto_pub fail.
      await expect(
        run('mosquitto_pub', [
          '-h',
          '127.0.0.1',
          '-p',
          port,
          '-u',
          'alice',
          '-P',
          token,
          '-t',
          'x',
          '-m',
          'y',
        ]),
      ).rejects.toThrow();
    });

    it('closes the connection when the token expires, and refuses the expired token', async () => {
      const { token, expiresAt } = await mint('watcher', 60);
      const client = await connect('watcher', token);
      const gone = closed(client);
      const start = t.clock.now();
      try {
        t.clock.set(Date.parse(expiresAt) + 30_000);
        await gone;
        expect(await refusal('watcher', token)).toBe(4);
        expect((await lastConnect()).details).toMatchObject({
          method: 'warden_token',
          reason: 'token_expired',
        });
      } finally {
        t.clock.set(start);
      }
    });

    it("a deactivated or deleted user's token is refused", async () => {
      await t.createUser({ username: 'temp', kind: 'person', accessRoles: ['sensor'] });
      const { token } = await mint('temp');
      const client = await connect('temp', token);
      const gone = closed(client);
      await t.services.users.deactivate(CLI_CONTEXT, 'temp');
      await gone;
      expect(await refusal('temp', token)).toBe(4);
      expect((await lastConnect()).details.reason).toBe('inactive');
      await t.services.users.remove(CLI_CONTEXT, 'temp');
      expect(await refusal('', token)).toBe(4);
      expect((await lastConnect()).details.reason).toBe('unknown_user');
    });

    it('a token signed with another key, or for another audience, is refused', async () => {
      const { token } = await mint('watcher');
      const { header, payload, signature } = jwtParts(token);
      expect(
        await refusal('watcher', compactJwt(header, { ...payload, sub: 'someone-else' }, signature)),
      ).toBe(4);
      expect((await lastConnect()).details).toMatchObject({
        method: 'warden_token',
        reason: 'token_signature',
      });
      // Another Warden's token (another WARDEN_SECRET_KEY) does not verify here.
      const other = await createTestContext();
      try {
        const cookie = await other.login('admin', ROOT_PASSWORD);
        const foreign = (
          await other.call('POST', '/api/v1/me/mqtt-token', { cookie, payload: {} })
        ).json() as {
          token: string;
        };
        expect(await refusal('admin', foreign.token)).toBe(4);
      } finally {
        await other.close();
      }
    });
  });
});
