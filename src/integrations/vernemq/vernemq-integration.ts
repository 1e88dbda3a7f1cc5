import { type Static, Type } from 'typebox';
import { acceptsSubscription } from '../../modules/access-engine/index.js';
import type { IntegrationContext } from '../broker-integration.js';
import {
  decideNow,
  type HookIntegration,
  type HookServices,
  type HookSettings,
  hookBase,
} from '../hooks/hook-integration.js';

/**
 * The hooks Warden answers (docs/broker-protocols.md#vernemq-webhooks); register each with
 * `vmq_webhooks.<name>.hook`.
 */
export const VERNEMQ_HOOKS = [
  'auth_on_register',
  'auth_on_register_m5',
  'auth_on_publish',
  'auth_on_publish_m5',
  'auth_on_subscribe',
  'auth_on_subscribe_m5',
] as const;
export type VernemqHook = (typeof VERNEMQ_HOOKS)[number];

const Text = Type.String({ maxLength: 65535 });
const NullableText = Type.Union([Text, Type.Null()]);

/** One body schema for every hook: VerneMQ's fields per hook are a subset of these. */
export const VernemqHookBody = Type.Object(
  {
    username: Type.Optional(NullableText),
    password: Type.Optional(NullableText),
    client_id: Type.Optional(Text),
    mountpoint: Type.Optional(Text),
    peer_addr: Type.Optional(Text),
    peer_port: Type.Optional(Type.Integer()),
    topic: Type.Optional(Text),
    qos: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 })),
    retain: Type.Optional(Type.Boolean()),
    topics: Type.Optional(
      Type.Array(
        Type.Object(
          { topic: Text, qos: Type.Integer({ minimum: 0, maximum: 2 }) },
          { additionalProperties: true },
        ),
        {
          maxItems: 1000,
        },
      ),
    ),
  },
  { additionalProperties: true },
);
export type VernemqHookRequest = Static<typeof VernemqHookBody>;

/** VerneMQ's reply vocabulary: ok (optionally with rewritten topics), an error, or "ask the next plugin". */
export type VernemqReply =
  | { result: 'ok' }
  | { result: 'ok'; topics: Array<{ topic: string; qos: number }> }
  | { result: 'ok'; modifiers: { topics: Array<{ topic: string; qos: number }> } }
  | { result: 'next' }
  | { result: { error: string } };

export interface VernemqSettings {
  readonly hook: HookSettings;
  /** Answer for users Warden does not know: `deny` or `next` (let the next plugin decide). */
  readonly unknownUser: 'deny' | 'next';
}

export interface VernemqIntegration extends HookIntegration {
  readonly kind: 'vernemq';
  answer(hook: VernemqHook, body: VernemqHookRequest): Promise<VernemqReply>;
}

const OK: VernemqReply = Object.freeze({ result: 'ok' });
const NOT_ALLOWED: VernemqReply = Object.freeze({ result: Object.freeze({ error: 'not_allowed' }) });
const NEXT: VernemqReply = Object.freeze({ result: 'next' });
/** SUBACK codes for a refused filter: MQTT 3.1.1 failure, MQTT 5 "not authorized". */
const REFUSED_V3 = 128;
const REFUSED_V5 = 135;

/**
 * VerneMQ webhooks (docs/broker-protocols.md#vernemq-webhooks): register → password check like the embedded
 * broker; publish → one decision with the packet's QoS and retain flag; subscribe → per filter, refused ones
 * rewritten to QoS 128 (v3, top-level `topics`) or reason 135 (`_m5`, `modifiers.topics`), so the others are
 * still granted. VerneMQ keeps `$share/<group>/` in the filter; the engine checks the inner filter.
 * Mountpoints are not interpreted (topics are taken as sent). Warden never sends `cache-control`, so nothing
 * is cached and a change applies at the next call; VerneMQ has no delivery hook, so delivery is decided at
 * subscribe time.
 */
export function createVernemqIntegration(deps: {
  name: string;
  settings: VernemqSettings;
  services: HookServices;
  context: IntegrationContext;
}): VernemqIntegration {
  const { services, settings } = deps;

  async function refusal(username: string): Promise<VernemqReply> {
    if (settings.unknownUser === 'next' && !(await services.userExists(username))) return NEXT;
    return NOT_ALLOWED;
  }

  async function register(body: VernemqHookRequest): Promise<VernemqReply> {
    const username = body.username ?? '';
    if (settings.unknownUser === 'next' && !(await services.userExists(username))) return NEXT;
    const result = await services.mqttAuth.authenticate({
      username,
      password:
        body.password === undefined || body.password === null
          ? undefined
          : Buffer.from(body.password, 'utf8'),
      clientId: body.client_id ?? '',
      ip: body.peer_addr ?? '',
    });
    return result.ok ? OK : NOT_ALLOWED;
  }

  async function publish(body: VernemqHookRequest): Promise<VernemqReply> {
    const username = body.username ?? '';
    const decision = await decideNow(services, username, body.client_id || null, {
      action: 'publish',
      topic: body.topic ?? '',
      qos: (body.qos ?? 0) as 0 | 1 | 2,
      retain: body.retain === true,
    });
    if (decision.allowed) return OK;
    return decision.reason === 'user_inactive' ? refusal(username) : NOT_ALLOWED;
  }

  async function subscribe(body: VernemqHookRequest, m5: boolean): Promise<VernemqReply> {
    const username = body.username ?? '';
    const topics = body.topics ?? [];
    let refused = false;
    let inactive = false;
    const answered: Array<{ topic: string; qos: number }> = [];
    for (const { topic, qos } of topics) {
      const decision = await decideNow(services, username, body.client_id || null, {
        action: 'subscribe',
        topic,
        qos: qos as 0 | 1 | 2,
      });
      if (decision.reason === 'user_inactive') inactive = true;
      // No delivery hook: a partially granted filter would deliver its carve-outs, so it is refused.
      const accepted = acceptsSubscription(decision, false);
      refused ||= !accepted;
      answered.push({ topic, qos: accepted ? qos : m5 ? REFUSED_V5 : REFUSED_V3 });
    }
    if (inactive) return refusal(username);
    if (!refused) return OK;
    return m5 ? { result: 'ok', modifiers: { topics: answered } } : { result: 'ok', topics: answered };
  }

  return {
    ...hookBase({
      name: deps.name,
      kind: 'vernemq',
      hook: settings.hook,
      context: deps.context,
      nothingToSync: 'VerneMQ caches nothing Warden answers: changes apply at its next hook call',
    }),
    kind: 'vernemq',

    answer(hook, body) {
      switch (hook) {
        case 'auth_on_register':
        case 'auth_on_register_m5':
          return register(body);
        case 'auth_on_publish':
        case 'auth_on_publish_m5':
          return publish(body);
        case 'auth_on_subscribe':
          return subscribe(body, false);
        case 'auth_on_subscribe_m5':
          return subscribe(body, true);
      }
    },
  };
}
