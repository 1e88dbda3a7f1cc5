import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSecret } from '../../src/core/crypto/generated-secret.js';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { mqttClients } from '../helpers/mqtt-inbox.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/** Waits for a condition the broker reaches asynchronously (a connection closed); never asserts on time. */
const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 5_000, interval: 5 });

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected || !client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

const MINUTE = 60_000;

/**
 * Generated secrets over real MQTT (mqtt.js against the embedded broker): the keyed hash verified at CONNECT,
 * the throttle and the audit log as for every password, existing generated passwords moving to the keyed hash
 * at their next login, and what a rotation does to live connections (docs/mqtt.md#live-revocation).
 */
describe.each(ENGINES)('generated secrets at the embedded broker (%s)', (engine) => {
  let t: TestContext;
  let broker: EmbeddedBroker;
  const clients = mqttClients(() => broker.url as string);
  const { connect } = clients;

  /** The CONNACK return code of a refused CONNECT. */
  async function refusal(username: string, password: string): Promise<number> {
    const error = await connect(username, password).then(
      () => null,
      (e: unknown) => e as { code?: number },
    );
    if (error === null) throw new Error('connection was accepted');
    return error.code ?? -1;
  }

  async function device(username: string): Promise<string> {
    const { password } = await t.services.users.createGenerated(CLI_CONTEXT, {
      username,
      role: 'viewer',
      kind: 'device',
    });
    return password;
  }

  async function stored(username: string) {
    return t.database.db
      .selectFrom('users')
      .select(['password_hash', 'password_origin'])
      .where('username_lower', '=', username)
      .executeTakeFirstOrThrow();
  }

  /** Stores `password` the way a release before generated secrets did: argon2id, origin unrecorded. */
  async function asBeforeThisRelease(username: string, password: string): Promise<void> {
    await t.database.db
      .updateTable('users')
      .set({ password_hash: await t.services.credentials.hash(password), password_origin: null })
      .where('username_lower', '=', username)
      .execute();
  }

  const audited = async (username: string, outcome: 'success' | 'failure') =>
    (await t.services.audit.list({ action: 'mqtt.connect', target: `user:${username}`, outcome }, 1, 250))
      .items;

  beforeAll(async () => {
    t = await createTestContext({ engine });
    broker = await startLocalBroker(t.services);
  });

  afterEach(async () => {
    await clients.closeAll();
    await until(() => expect(t.services.mqttConnections.size).toBe(0));
  });

  afterAll(async () => {
    await broker.close();
    await t.close();
  });

  it('a generated secret (created through the API) opens a connection; a wrong one is refused (CONNACK 4); both audited', async () => {
    const created = await t.call('POST', '/api/v1/users', {
      cookie: await t.login('admin', ROOT_PASSWORD),
      payload: { username: 'gen-1', role: 'viewer', kind: 'device' },
    });
    expect(created.statusCode).toBe(201);
    const secret = created.json().generatedPassword as string;
    expect((await stored('gen-1')).password_hash?.startsWith('$warden-hmac-sha256$')).toBe(true);
    expect((await connect('gen-1', secret)).connected).toBe(true);
    expect((await connect('GEN-1', secret)).connected).toBe(true);
    const wrong = generateSecret();
    expect(await refusal('gen-1', wrong)).toBe(4);
    expect(await refusal('gen-1', STRONG_PASSWORD)).toBe(4);
    expect((await audited('gen-1', 'success')).length).toBe(1);
    const failures = await audited('gen-1', 'failure');
    expect(failures.map((event) => event.details.reason)).toEqual(['wrong_password', 'wrong_password']);
    expect(JSON.stringify(failures)).not.toContain(wrong);
  });

  it('the throttle counts wrong secrets and refuses the right one while the account waits (CONNACK 5)', async () => {
    const secret = await device('gen-throttled');
    for (let i = 0; i < 3; i++) expect(await refusal('gen-throttled', generateSecret())).toBe(4);
    expect(await t.services.throttle.isBlocked('gen-throttled')).toBe(true);
    expect(await refusal('gen-throttled', secret)).toBe(5);
    expect((await audited('gen-throttled', 'failure')).map((e) => e.details.reason)).toContain('throttled');
    t.clock.advance(MINUTE);
    expect((await connect('gen-throttled', secret)).connected).toBe(true);
  });

  it('racing wrong secrets stay within the per-account budget', async () => {
    await device('gen-raced');
    const codes = await Promise.all(Array.from({ length: 30 }, () => refusal('gen-raced', generateSecret())));
    const counted = (await audited('gen-raced', 'failure')).filter(
      (e) => e.details.reason === 'wrong_password',
    );
    // Three failures start the progressive delay: every later attempt is refused before anything is verified.
    expect(counted.length).toBe(3);
    expect(codes.filter((code) => code === 4)).toHaveLength(3);
    expect(codes.filter((code) => code === 5)).toHaveLength(27);
    t.clock.advance(MINUTE);
  });

  describe('passwords generated before this release', () => {
    it("move to the keyed hash at the next successful MQTT login when they are a device's and have the generator's form", async () => {
      const secret = generateSecret();
      await t.services.users.create(CLI_CONTEXT, {
        username: 'legacy-gen',
        password: STRONG_PASSWORD,
        role: 'viewer',
        kind: 'device',
      });
      await asBeforeThisRelease('legacy-gen', secret);
      // A wrong password moves nothing.
      expect(await refusal('legacy-gen', generateSecret())).toBe(4);
      expect(t.services.credentials.schemeOf((await stored('legacy-gen')).password_hash as string)).toBe(
        'argon2id',
      );
      const client = await connect('legacy-gen', secret);
      const after = await stored('legacy-gen');
      expect(after.password_origin).toBe('generated');
      expect(t.services.credentials.schemeOf(after.password_hash as string)).toBe('keyed');
      expect(await t.services.credentials.verify(after.password_hash as string, secret)).toBe(true);
      // Verified again from the new record once the cached credential is gone.
      await client.endAsync(true);
      await until(() => expect(t.services.mqttConnections.ofUser('legacy-gen')).toHaveLength(0));
      t.clock.advance(2 * MINUTE);
      expect((await connect('legacy-gen', secret)).connected).toBe(true);
      expect((await audited('legacy-gen', 'success')).length).toBe(2);
    });

    it('stay argon2id when typed: of another form, chosen after this release, or a person’s', async () => {
      const shaped = generateSecret();
      const cases = [
        { username: 'legacy-typed', kind: 'device', password: STRONG_PASSWORD, legacy: true },
        { username: 'chosen-shaped', kind: 'device', password: shaped, legacy: false },
        { username: 'legacy-person', kind: 'person', password: generateSecret(), legacy: true },
      ] as const;
      for (const { username, kind, password, legacy } of cases) {
        await t.services.users.create(CLI_CONTEXT, { username, password, role: 'viewer', kind });
        if (legacy) await asBeforeThisRelease(username, password);
        expect((await connect(username, password)).connected).toBe(true);
        const row = await stored(username);
        expect(t.services.credentials.schemeOf(row.password_hash as string), username).toBe('argon2id');
        expect(row.password_origin, username).toBe(legacy ? null : 'chosen');
      }
    });
  });

  describe('rotation and live connections', () => {
    it('without a grace period: the connections close at once, the old secret is refused, the new one works', async () => {
      const first = await device('rot-now');
      const live = await connect('rot-now', first);
      const { secret } = await t.services.users.rotateSecret(CLI_CONTEXT, 'rot-now');
      await closed(live);
      expect(await refusal('rot-now', first)).toBe(4);
      expect((await connect('rot-now', secret)).connected).toBe(true);
    });

    it('with a grace period: old-secret connections stay until it ends and then close; new-secret ones stay', async () => {
      const first = await device('rot-grace');
      const before = await connect('rot-grace', first);
      const rotated = await t.services.users.rotateSecret(CLI_CONTEXT, 'rot-grace', { graceMinutes: 10 });
      expect(rotated.previousValidUntil).toBe(t.clock.now() + 10 * MINUTE);
      // The rotation has been applied here (the call returns once the change feed delivered it).
      expect(before.connected).toBe(true);
      const during = await connect('rot-grace', first);
      const renewed = await connect('rot-grace', rotated.secret);
      expect(t.services.mqttConnections.ofUser('rot-grace')).toHaveLength(3);
      t.clock.advance(9 * MINUTE);
      expect([before, during, renewed].every((client) => client.connected)).toBe(true);
      t.clock.advance(MINUTE);
      await until(() => expect([before.connected, during.connected]).toEqual([false, false]));
      await until(() => expect(t.services.mqttConnections.ofUser('rot-grace')).toHaveLength(1));
      expect(renewed.connected).toBe(true);
      expect(await refusal('rot-grace', first)).toBe(4);
      expect((await connect('rot-grace', rotated.secret)).connected).toBe(true);
    });
  });
});
