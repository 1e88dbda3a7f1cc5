import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { type AccessRule, compileRoles, decide } from '../../src/modules/access-engine/index.js';
import { toRuleJson } from '../../src/modules/access-roles/access-roles.service.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { type MosquittoInstance, mosquittoPlugin, startMosquitto } from '../helpers/mosquitto.js';
import { subackCodes } from '../helpers/mqtt-inbox.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';
import {
  ADAPTER_LIMITS,
  ADAPTERS,
  type Adapter,
  type AdapterOutcome,
  type ConformanceCase,
  type ConformanceScenario,
  DIFFERENCES,
  PARTIAL_GRANT,
  SCENARIOS,
} from './broker-conformance.cases.js';
import {
  emqxAuthz,
  goAuthAcl,
  type ReplayRequest,
  vernemqPublish,
  vernemqSubscribe,
} from './broker-replay.js';

/**
 * Runs the conformance table (broker-conformance.cases.ts) on every enforcement point: the pure engine, the
 * embedded aedes broker and a real Mosquitto 2 (through the dynsec sync) with real mqtt.js clients, and the
 * EMQX, go-auth and VerneMQ hooks by replaying the requests those brokers send. Every case is asserted on every
 * adapter against its explicit expectation.
 */

/**
 * A literal topic every test user may use, prepended as the user's first role: publishers send it after the
 * case message and subscribers receive it after the case message, so "the case message did not arrive" is
 * known without waiting for a timeout. A literal allow never decides a request on another topic, and as a `$`
 * topic no wildcard-first filter of the table meets it (MQTT-4.7.2-1): it grants no part of a case's filter.
 */
const MARKER = '$warden-conformance/marker';
const HARNESS_ROLE = {
  name: 'cf-harness',
  rules: [{ permission: 'allow', action: 'all', topic: MARKER }] as AccessRule[],
};
const OBSERVER = 'cf-observer';
const SAFETY_MS = 10_000;

const plugin = mosquittoPlugin();

function expected(adapter: Adapter, kase: ConformanceCase): AdapterOutcome {
  if (ADAPTER_LIMITS[adapter]?.[kase.action]) return 'n/a';
  const want = kase.differ?.[adapter]?.expect ?? kase.expect;
  return want === 'partial' ? PARTIAL_GRANT[adapter].expect : want;
}

function label(scenario: ConformanceScenario, kase: ConformanceCase): string {
  const via = kase.via ? ` via ${kase.via}` : '';
  return `${scenario.name}: ${kase.action} ${kase.topic}${via} qos${kase.qos}${kase.retain ? ' retain' : ''}`;
}

const roleName = (scenarioIndex: number, role: string): string => `c${scenarioIndex}-${role}`;

/** Asserts one adapter's answers for a scenario, listing every mismatch at once. */
async function check(
  adapter: Adapter,
  scenario: ConformanceScenario,
  answer: (kase: ConformanceCase) => Promise<AdapterOutcome>,
): Promise<void> {
  const mismatches: string[] = [];
  for (const kase of scenario.cases) {
    const got = await answer(kase);
    const want = expected(adapter, kase);
    if (got !== want) mismatches.push(`${label(scenario, kase)}: expected ${want}, got ${got}`);
  }
  expect(mismatches).toEqual([]);
}

describe('the conformance table', () => {
  it(`has at least 200 cases, and every difference it uses is documented in docs/brokers.md`, () => {
    const cases = SCENARIOS.flatMap((scenario) => scenario.cases);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const docs = fs.readFileSync(new URL('../../docs/brokers.md', import.meta.url), 'utf8');
    const used = new Set([
      ...cases.flatMap((kase) => Object.values(kase.differ ?? {}).map((difference) => difference.why)),
      ...Object.values(ADAPTER_LIMITS).flatMap((limits) => Object.values(limits ?? {})),
      ...Object.values(PARTIAL_GRANT).flatMap((grant) => (grant.why ? [grant.why] : [])),
    ]);
    for (const id of Object.keys(DIFFERENCES)) {
      expect(docs, `docs/brokers.md must explain difference ${id}`).toContain(`\`${id}\``);
    }
    expect([...used].every((id) => id in DIFFERENCES)).toBe(true);
    for (const kase of cases) {
      for (const adapter of Object.keys(kase.differ ?? {})) expect(ADAPTERS).toContain(adapter);
    }
  });
});

describe('engine', () => {
  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', async (_name, scenario) => {
    const plain = compileRoles(scenario.roles);
    const withHarness = compileRoles([HARNESS_ROLE, ...scenario.roles]);
    const identity = { username: scenario.username, clientid: scenario.clientid };
    await check('engine', scenario, async (kase) => {
      if (scenario.active === false) return 'deny';
      const request = { action: kase.action, topic: kase.topic, qos: kase.qos, retain: kase.retain };
      const decision = decide(plain, identity, request);
      const outcome = decision.allowed ? 'allow' : decision.reason === 'partial' ? 'partial' : 'deny';
      // The harness role the broker runs add must never change a case's decision.
      const harnessed = decide(withHarness, identity, request);
      expect([harnessed.allowed, harnessed.reason === 'partial'], label(scenario, kase)).toEqual([
        decision.allowed,
        decision.reason === 'partial',
      ]);
      return outcome;
    });
  });
});

/** Creates every scenario's roles and user (plus the observer) in a Warden instance. */
async function provision(t: TestContext): Promise<void> {
  const { accessRoles, users } = t.services;
  await accessRoles.create(CLI_CONTEXT, {
    name: HARNESS_ROLE.name,
    rules: HARNESS_ROLE.rules.map(toRuleJson),
  });
  await accessRoles.create(CLI_CONTEXT, {
    name: 'cf-observer-all',
    rules: [
      { permission: 'allow', action: 'all', topic: '#' },
      { permission: 'allow', action: 'all', topic: MARKER },
    ],
  });
  await t.createUser({ username: OBSERVER, kind: 'service', accessRoles: ['cf-observer-all'] });
  for (const [index, scenario] of SCENARIOS.entries()) {
    for (const role of scenario.roles) {
      await accessRoles.create(CLI_CONTEXT, {
        name: roleName(index, role.name),
        rules: role.rules.map(toRuleJson),
      });
    }
    await t.createUser({
      username: scenario.username,
      kind: 'device',
      accessRoles: [HARNESS_ROLE.name, ...scenario.roles.map((role) => roleName(index, role.name))],
    });
    if (scenario.active === false) await users.deactivate(CLI_CONTEXT, scenario.username);
  }
}

describe('hooks, replaying the requests each broker sends', () => {
  let t: TestContext;

  beforeAll(async () => {
    t = await createTestContext();
    await provision(t);
    await t.services.brokers.create(CLI_CONTEXT, { name: 'cf-emqx', kind: 'emqx', config: {} });
    await t.services.brokers.create(CLI_CONTEXT, { name: 'cf-go-auth', kind: 'go-auth', config: {} });
    await t.services.brokers.create(CLI_CONTEXT, { name: 'cf-vernemq', kind: 'vernemq', config: {} });
    await t.services.brokers.start();
  });
  afterAll(async () => {
    await t.services.brokers.stop();
    await t.close();
  });

  async function send(request: ReplayRequest): Promise<{ status: number; body: string }> {
    const response = await t.app.inject({
      method: 'POST',
      url: request.url,
      headers: request.headers,
      payload: request.payload,
    });
    return { status: response.statusCode, body: response.body };
  }

  const replay: Record<
    'emqx' | 'go-auth' | 'vernemq',
    (scenario: ConformanceScenario, kase: ConformanceCase) => Promise<AdapterOutcome>
  > = {
    async emqx(scenario, kase) {
      if (kase.action === 'receive') return 'n/a';
      const { status, body } = await send(
        emqxAuthz({
          username: scenario.username,
          clientid: scenario.clientid,
          action: kase.action,
          topic: kase.topic,
          qos: kase.qos,
          retain: kase.retain,
        }),
      );
      expect(status).toBe(200);
      return (JSON.parse(body) as { result: string }).result === 'allow' ? 'allow' : 'deny';
    },
    async 'go-auth'(scenario, kase) {
      const acc = kase.action === 'receive' ? 1 : kase.action === 'publish' ? 2 : 4;
      const { status } = await send(
        goAuthAcl({ username: scenario.username, clientid: scenario.clientid, topic: kase.topic, acc }),
      );
      return status === 200 ? 'allow' : 'deny';
    },
    async vernemq(scenario, kase) {
      if (kase.action === 'receive') return 'n/a';
      const request =
        kase.action === 'publish'
          ? vernemqPublish({
              username: scenario.username,
              clientid: scenario.clientid,
              topic: kase.topic,
              qos: kase.qos,
              retain: kase.retain,
            })
          : vernemqSubscribe({
              username: scenario.username,
              clientid: scenario.clientid,
              topics: [{ topic: kase.topic, qos: kase.qos }],
            });
      const { status, body } = await send(request);
      expect(status).toBe(200);
      const reply = JSON.parse(body) as { result: unknown; topics?: Array<{ qos: number }> };
      if (reply.result !== 'ok') return 'deny';
      return reply.topics?.[0]?.qos === 128 ? 'deny' : 'allow';
    },
  };

  for (const adapter of ['emqx', 'go-auth', 'vernemq'] as const) {
    describe(adapter, () => {
      it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))(
        '%s',
        async (_name, scenario) => {
          await check(adapter, scenario, (kase) => replay[adapter](scenario, kase));
        },
      );
    });
  }
});

/** What a message looks like to a probe. */
interface Seen {
  readonly topic: string;
  readonly payload: string;
}

/** Resolves when `predicate` holds for a message `client` receives (or rejects after a safety delay). */
function waitFor(client: MqttClient, predicate: (seen: Seen) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no ${what} within ${SAFETY_MS} ms`));
    }, SAFETY_MS);
    const onMessage = (topic: string, payload: Buffer): void => {
      if (!predicate({ topic, payload: payload.toString() })) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve();
    };
    client.on('message', onMessage);
  });
}

/** Messages `client` receives from now on. */
function record(client: MqttClient): { seen: Seen[]; stop(): void } {
  const seen: Seen[] = [];
  const onMessage = (topic: string, payload: Buffer): void => {
    seen.push({ topic, payload: payload.toString() });
  };
  client.on('message', onMessage);
  return { seen, stop: () => client.off('message', onMessage) };
}

const REFUSED = 0x80;

/** Plays cases against a real broker with real mqtt.js clients and reports what actually happened. */
function realBrokerProbe(url: () => string, protocolVersion: 4 | 5) {
  let observer: MqttClient;

  const connect = (username: string, clientId: string): Promise<MqttClient> =>
    mqtt.connectAsync(url(), {
      username,
      password: STRONG_PASSWORD,
      clientId,
      protocolVersion,
      reconnectPeriod: 0,
      connectTimeout: SAFETY_MS,
    });

  async function observerPublish(
    topic: string,
    payload: string,
    qos: number,
    retain: boolean,
  ): Promise<void> {
    await observer.publishAsync(topic, payload, { qos: qos as 0 | 1 | 2, retain });
  }

  async function publishCase(
    subject: MqttClient,
    kase: ConformanceCase,
    id: string,
  ): Promise<AdapterOutcome> {
    const seen = record(observer);
    const closed = new Promise<'closed'>((resolve) => subject.once('close', () => resolve('closed')));
    const marker = waitFor(
      observer,
      (message) => message.topic === MARKER && message.payload === id,
      'publish marker',
    ).then(() => 'marker' as const);
    // Refusals answer with a negative PUBACK (MQTT 5) or are acknowledged and dropped (aedes' default deny
    // action): neither is awaited, the marker tells when the case message would have arrived.
    // The marker takes the same path as the case message (same QoS and retain flag: aedes stores retained
    // messages before forwarding them), so it cannot overtake it.
    subject.publish(kase.topic, id, { qos: kase.qos, retain: kase.retain }, () => {});
    subject.publish(MARKER, id, { qos: kase.qos, retain: kase.retain }, () => {});
    const first = await Promise.race([marker, closed]);
    seen.stop();
    const delivered = seen.seen.some((message) => message.topic === kase.topic && message.payload === id);
    if (kase.retain) {
      await observerPublish(kase.topic, '', 1, true);
      await observerPublish(MARKER, '', 1, true);
    }
    return first === 'marker' && delivered ? 'allow' : 'deny';
  }

  async function receiveCase(
    subject: MqttClient,
    kase: ConformanceCase,
    id: string,
  ): Promise<AdapterOutcome> {
    const seen = record(subject);
    const marker = waitFor(
      subject,
      (message) => message.topic === MARKER && message.payload === id,
      'receive marker',
    );
    if (kase.retain) {
      // Stored before the subscription exists (else it would be a live delivery): the observer seeing its own
      // marker come back proves the broker has processed both.
      const stored = waitFor(
        observer,
        (message) => message.topic === MARKER && message.payload === id,
        'stored marker',
      );
      await observerPublish(kase.topic, id, kase.qos, true);
      await observerPublish(MARKER, id, kase.qos, true);
      await stored;
    }
    const [viaCode] = await subackCodes(subject, [kase.via ?? kase.topic, MARKER], kase.qos);
    if (!kase.retain) {
      await observerPublish(kase.topic, id, kase.qos, false);
      await observerPublish(MARKER, id, kase.qos, false);
    }
    await marker;
    seen.stop();
    if (kase.retain) {
      await observerPublish(kase.topic, '', 1, true);
      await observerPublish(MARKER, '', 1, true);
    }
    const delivered = seen.seen.some((message) => message.topic === kase.topic && message.payload === id);
    return (viaCode ?? REFUSED) < REFUSED && delivered ? 'allow' : 'deny';
  }

  return {
    async start(): Promise<void> {
      observer = await connect(OBSERVER, `${OBSERVER}-${randomBytes(3).toString('hex')}`);
      await subackCodes(observer, ['#', MARKER], 2);
    },
    async stop(): Promise<void> {
      await observer?.endAsync(true);
    },
    async answer(scenario: ConformanceScenario, kase: ConformanceCase): Promise<AdapterOutcome> {
      const subject = await connect(scenario.username, scenario.clientid).catch(() => null);
      if (subject === null) return 'deny';
      const id = randomBytes(6).toString('hex');
      try {
        if (kase.action === 'subscribe') {
          const [code] = await subackCodes(subject, kase.topic, kase.qos);
          return (code ?? REFUSED) < REFUSED ? 'allow' : 'deny';
        }
        return kase.action === 'publish'
          ? await publishCase(subject, kase, id)
          : await receiveCase(subject, kase, id);
      } finally {
        await subject.endAsync(true);
      }
    },
  };
}

describe('embedded broker (aedes, MQTT 3.1.1) with real mqtt.js clients', () => {
  let t: TestContext;
  let broker: EmbeddedBroker;
  const probe = realBrokerProbe(() => broker.url as string, 4);

  beforeAll(async () => {
    t = await createTestContext();
    await provision(t);
    broker = await startLocalBroker(t.services);
    await probe.start();
  });
  afterAll(async () => {
    await probe.stop();
    await broker?.close();
    await t.close();
  });

  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', async (_name, scenario) => {
    await check('aedes', scenario, (kase) => probe.answer(scenario, kase));
  });
});

describe.skipIf(plugin === null)(
  'Mosquitto 2 through the dynamic-security sync, with real mqtt.js clients (MQTT 5)',
  () => {
    let t: TestContext;
    let mosquitto: MosquittoInstance;
    const probe = realBrokerProbe(() => mosquitto.url, 5);

    beforeAll(async () => {
      mosquitto = await startMosquitto(plugin as string);
      t = await createTestContext();
      await t.services.brokers.create(CLI_CONTEXT, {
        name: 'cf-mosquitto',
        kind: 'mosquitto',
        config: {
          url: mosquitto.url,
          adminUsername: mosquitto.adminUsername,
          adminPassword: mosquitto.adminPassword,
        },
      });
      await t.services.brokers.start();
      await vi.waitFor(
        async () => expect((await t.services.brokers.status('cf-mosquitto')).lastSyncAt).not.toBeNull(),
        {
          timeout: SAFETY_MS,
          interval: 20,
        },
      );
      // Created while the sync runs: users, roles and passwords reach Mosquitto incrementally.
      await provision(t);
      await t.services.brokers.idle();
      const dryRun = await t.services.brokers.sync(CLI_CONTEXT, 'cf-mosquitto', { dryRun: true });
      expect(dryRun.changes).toEqual([]);
      await probe.start();
    });
    afterAll(async () => {
      await probe.stop();
      await t?.services.brokers.stop();
      await t?.close();
      await mosquitto?.stop();
    });

    it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))(
      '%s',
      async (_name, scenario) => {
        await check('mosquitto', scenario, (kase) => probe.answer(scenario, kase));
      },
    );
  },
);
