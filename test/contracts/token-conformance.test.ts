import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { updateUser } from '../../src/modules/users/users.repository.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { compactJwt, idTokenFrom, jwtParts, TEST_REDIRECT_URI } from '../helpers/oidc-tokens.js';
import { addTestProvider, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/sso.js';
import { createTestContext, type TestContext } from '../helpers/test-app.js';
import { emqxAuthn, goAuthUser, type ReplayRequest, vernemqRegister } from './broker-replay.js';

/**
 * One table of token CONNECTs (docs/mqtt-tokens.md) run on every enforcement point that takes tokens: the
 * embedded broker with a real mqtt.js client, and the EMQX, go-auth and VerneMQ hooks by replaying their exact
 * requests. Each case names the expected answer; where an enforcement point answers differently, the case says so
 * with the difference's id (explained in docs/mqtt-tokens.md#per-broker-behaviour). Mosquitto with dynamic
 * security is not in the table: it verifies only the passwords it stores (docs/mqtt-tokens.md).
 */

const POINTS = ['embedded', 'emqx', 'go-auth', 'vernemq'] as const;
type Point = (typeof POINTS)[number];

const DIFFERENCES = {
  'hooks-need-username':
    'A hook broker names the client by its CONNECT username in every later hook request, so a token without the username it stands for is refused there; the embedded broker takes the user from the token.',
} as const;

/** The tokens a case can present, made once for the whole table. */
interface Tokens {
  readonly warden: string;
  readonly wardenExpired: string;
  readonly wardenOfInactive: string;
  readonly oidc: string;
  readonly oidcOtherClient: string;
  readonly oidcTampered: string;
  readonly oidcUnsigned: string;
}

interface TokenCase {
  readonly name: string;
  readonly username: string;
  readonly token: keyof Tokens;
  readonly expect: 'allow' | 'deny';
  readonly differ?: Partial<Record<Point, { expect: 'allow' | 'deny'; why: keyof typeof DIFFERENCES }>>;
}

const WITHOUT_USERNAME = {
  emqx: { expect: 'deny', why: 'hooks-need-username' },
  'go-auth': { expect: 'deny', why: 'hooks-need-username' },
  vernemq: { expect: 'deny', why: 'hooks-need-username' },
} as const;

const CASES: readonly TokenCase[] = [
  { name: 'Warden token with its username', username: 'dev-1', token: 'warden', expect: 'allow' },
  { name: 'Warden token, username in another case', username: 'DEV-1', token: 'warden', expect: 'allow' },
  {
    name: 'Warden token without a username',
    username: '',
    token: 'warden',
    expect: 'allow',
    differ: WITHOUT_USERNAME,
  },
  { name: "Warden token under another user's name", username: 'alice', token: 'warden', expect: 'deny' },
  { name: 'expired Warden token', username: 'dev-1', token: 'wardenExpired', expect: 'deny' },
  { name: "deactivated user's Warden token", username: 'sleepy', token: 'wardenOfInactive', expect: 'deny' },
  { name: 'ID token of the linked user', username: 'alice', token: 'oidc', expect: 'allow' },
  {
    name: 'ID token without a username',
    username: '',
    token: 'oidc',
    expect: 'allow',
    differ: WITHOUT_USERNAME,
  },
  { name: "ID token under another user's name", username: 'dev-1', token: 'oidc', expect: 'deny' },
  { name: 'ID token for another client', username: 'alice', token: 'oidcOtherClient', expect: 'deny' },
  { name: 'ID token with a changed claim', username: 'alice', token: 'oidcTampered', expect: 'deny' },
  { name: 'unsigned token (alg none)', username: 'alice', token: 'oidcUnsigned', expect: 'deny' },
];

const OTHER_CLIENT = { clientId: 'other-app', clientSecret: 'other-client-secret-0123456789' };

describe('token CONNECTs on every enforcement point (one table)', () => {
  let t: TestContext;
  let op: TestOidcProvider;
  let broker: EmbeddedBroker;
  let tokens: Tokens;
  let next = 0;

  const send = (request: ReplayRequest) =>
    t.app.inject({ method: 'POST', url: request.url, headers: request.headers, payload: request.payload });

  /** What one enforcement point answered to a CONNECT with `password`. */
  async function answer(point: Point, username: string, password: string): Promise<'allow' | 'deny'> {
    const clientid = `cf-${next++}`;
    switch (point) {
      case 'embedded': {
        const client = await mqtt
          .connectAsync(broker.url as string, { username, password, clientId: clientid, reconnectPeriod: 0 })
          .catch(() => null);
        await client?.endAsync(true);
        return client ? 'allow' : 'deny';
      }
      case 'emqx': {
        const reply = (await send(emqxAuthn({ username, password, clientid }))).json() as { result: string };
        return reply.result === 'allow' ? 'allow' : 'deny';
      }
      case 'go-auth':
        return (await send(goAuthUser({ username, password, clientid }))).statusCode === 200
          ? 'allow'
          : 'deny';
      case 'vernemq': {
        const reply = (await send(vernemqRegister({ username, password, clientid }))).json() as {
          result: unknown;
        };
        return reply.result === 'ok' ? 'allow' : 'deny';
      }
    }
  }

  beforeAll(async () => {
    t = await createTestContext();
    op = await startOidcProvider({
      clients: [
        { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, redirectUris: [TEST_REDIRECT_URI] },
        { ...OTHER_CLIENT, redirectUris: [TEST_REDIRECT_URI] },
      ],
    });
    op.setAccount('alice-sub', { email: 'alice@example.com', email_verified: true });
    await addTestProvider(t.services, op);
    for (const username of ['alice', 'dev-1', 'sleepy']) await t.createUser({ username, kind: 'device' });
    const alice = await t.services.userReader.mustFindRow('alice');
    await updateUser(t.services.infra.db, alice.id, {
      auth_method: 'sso',
      sso_provider: 'test-op',
      sso_subject: 'alice-sub',
    });
    const issue = async (username: string) =>
      (await t.services.mqttTokens.issueFor(CLI_CONTEXT, username, {})).token;
    const oidc = await idTokenFrom(op, 'alice-sub');
    const { header, payload, signature } = jwtParts(oidc);
    // Issued an hour and a half ago (the clock moves back, issues, and returns): expired, with the tolerance.
    const now = t.clock.now();
    t.clock.set(now - 5_400_000);
    const wardenExpired = await issue('dev-1');
    t.clock.set(now);
    const wardenOfInactive = await issue('sleepy');
    await t.services.users.deactivate(CLI_CONTEXT, 'sleepy');
    tokens = {
      warden: await issue('dev-1'),
      wardenExpired,
      wardenOfInactive,
      oidc,
      oidcOtherClient: await idTokenFrom(op, 'alice-sub', OTHER_CLIENT),
      oidcTampered: compactJwt(header, { ...payload, exp: (payload.exp as number) + 3600 }, signature),
      oidcUnsigned: compactJwt({ alg: 'none' }, payload, ''),
    };
    for (const kind of ['emqx', 'go-auth', 'vernemq'] as const)
      await t.services.brokers.create(CLI_CONTEXT, { name: `${kind}-1`, kind, config: {} });
    await t.services.brokers.start();
    broker = await startLocalBroker(t.services);
  });

  afterAll(async () => {
    await broker?.close();
    await t?.services.brokers.stop();
    await op?.stop();
    await t?.close();
  });

  for (const point of POINTS) {
    it(`${point}: every case answers as the table says`, async () => {
      const mismatches: string[] = [];
      for (const kase of CASES) {
        const want = kase.differ?.[point]?.expect ?? kase.expect;
        const got = await answer(point, kase.username, tokens[kase.token]);
        if (got !== want) mismatches.push(`${kase.name}: expected ${want}, got ${got}`);
      }
      expect(mismatches).toEqual([]);
    });
  }

  it('every difference is used by a case and explained', () => {
    const used = new Set(CASES.flatMap((kase) => Object.values(kase.differ ?? {}).map((d) => d.why)));
    expect([...used].sort()).toEqual(Object.keys(DIFFERENCES).sort());
  });
});
