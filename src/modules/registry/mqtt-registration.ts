import type { Aedes, AedesOptions, Client } from 'aedes';
import type { Logger } from 'pino';
import { AppError } from '../../core/errors/app-error.js';
import { parseWith } from '../../core/validation.js';
import type { Services } from '../../services.js';
import {
  CLIENT_ID_PATTERN,
  type DeviceStatus,
  RegistrationBody,
  type Submitted,
} from './registry.schemas.js';
import { ENROLMENT_TOKEN, POLL_SECRET } from './registry-tokens.js';

/** The MQTT username of a device that registers itself (docs/registry.md#mqtt). No user can have it. */
export const REGISTRATION_USERNAME = '$registry';
/** Where a registration connection publishes its request, and where its answers come from. */
export const requestTopic = (clientId: string): string => `$warden/registry/${clientId}/request`;
export const responseTopic = (clientId: string): string => `$warden/registry/${clientId}/response`;

/** A request's payload is the REST body as JSON; a CSR of 8 KiB and the other fields fit well within this. */
const MAX_REQUEST_BYTES = 16 * 1024;
const CLIENT_ID = new RegExp(CLIENT_ID_PATTERN);

/** MQTT 3.1.1 CONNACK return codes (aedes' `AuthErrorCode` is a const enum isolated modules cannot import). */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

type Hooks = Required<
  Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>
>;

/** What the registry's wrapper needs of the broker's own hooks: the hooks, and how to attach them. */
export type BrokerHooks = Hooks & { attach(broker: Aedes): void };

/** What answers a refused request on the response topic (never a secret). */
interface Refusal {
  readonly status: 'refused';
  readonly code: string;
  readonly detail: string;
}

/** One registration connection: the device's client id, and the requests whose answers it may receive. */
interface Registration {
  readonly clientId: string;
  readonly ip: string;
  /** The enrolment token it connected with (used for its request when the body names none), or null. */
  readonly token: string | null;
  /** Requests made on this connection, or named by the poll secret it connected with. */
  readonly requests: Set<string>;
  /** Requests whose final answer this connection got: it gets each once. */
  readonly answered: Set<string>;
  /** Requests being answered now, and whether to look again once done (something happened meanwhile). */
  readonly answering: Map<string, boolean>;
  subscribed: boolean;
}

function refusal(returnCode: number, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

function remoteAddress(client: Client): string {
  const conn = client.conn;
  return 'remoteAddress' in conn ? (conn.remoteAddress ?? '') : '';
}

/**
 * Whether a filter can match a topic under `$warden/registry/`: such topics carry devices' requests and their
 * credentials, and belong to the registration connections alone, whatever anyone's access rules say.
 */
export function touchesRegistryTopics(filter: string): boolean {
  // Runs for every PUBLISH and every delivery: other topics are answered by a prefix check, without a split.
  if (!filter.startsWith('$warden/')) return false;
  const [first, second] = filter.split('/');
  return first === '$warden' && (second === 'registry' || second === '+' || second === '#');
}

/**
 * The client registry on the embedded broker (docs/registry.md#registering-over-mqtt). A device connects as `$registry` with its
 * own client id — without a password while the registry is unlocked, with an enrolment token as password while
 * it is locked, or with the poll secret of its request to come back for the answer — and may do exactly two
 * things: publish its request (the REST body as JSON, QoS 0 or 1, not retained) to
 * `$warden/registry/<clientId>/request`, and subscribe to `$warden/registry/<clientId>/response`, where it gets
 * the request's acknowledgement (with its poll secret) and, once an administrator decided on any instance, the
 * answer, its credentials delivered exactly once (QoS 1, never retained, sent to this connection alone). Anything
 * else is refused: another topic or client id, a wildcard, retain, a will, a persistent session. No other client
 * may publish, subscribe or receive under `$warden/registry/`.
 *
 * Wraps the broker's own hooks: registration connections are decided here, everything else passes through.
 */
export function withMqttRegistration<H extends BrokerHooks>(
  hooks: H,
  deps: { services: Services; logger: Logger },
): H {
  const { registry } = deps.services;
  const { logger } = deps;
  const registrations = new WeakMap<Client, Registration>();
  /** Registration connections of this broker by the requests they may receive the answer of. */
  const waiting = new Map<string, Set<Client>>();
  /** Requests that were authorized and are handled here: the broker must not route them anywhere. */
  const consumed = new WeakSet<object>();
  /** Payloads this module sends to a registration connection: the only deliveries it may receive. */
  const answers = new WeakSet<Buffer>();

  function entitle(client: Client, registration: Registration, requestId: string): void {
    registration.requests.add(requestId);
    let clients = waiting.get(requestId);
    if (!clients) {
      clients = new Set();
      waiting.set(requestId, clients);
    }
    clients.add(client);
  }

  function forget(client: Client, registration: Registration): void {
    for (const requestId of registration.requests) {
      const clients = waiting.get(requestId);
      clients?.delete(client);
      if (clients?.size === 0) waiting.delete(requestId);
    }
  }

  /**
   * Sends one answer to this connection alone (QoS 1, not retained), never through the broker's routing; only
   * once it subscribed to its response topic, as a broker would.
   */
  function send(client: Client, registration: Registration, body: Submitted | DeviceStatus | Refusal): void {
    if (!registration.subscribed) return;
    const payload = Buffer.from(JSON.stringify(body));
    answers.add(payload);
    client.publish(
      {
        cmd: 'publish',
        topic: responseTopic(registration.clientId),
        payload,
        qos: 1,
        retain: false,
        dup: false,
      },
      (error) => {
        if (error) logger.warn({ err: error, clientId: registration.clientId }, 'registry: answer not sent');
      },
    );
  }

  /**
   * Sends the answer of a decided (or expired) request this connection may receive; an approved one claims the
   * credentials (one transaction: of all connections and polls, exactly one gets them). A request still waiting
   * has no answer yet: its device hears nothing until there is one.
   */
  async function answer(client: Client, registration: Registration, requestId: string): Promise<void> {
    const row = await registry.reread(requestId);
    if (!row || client.closed || !registration.subscribed) return;
    const status = await registry.answer(row, { ip: registration.ip, requestId: '' }, 'mqtt');
    if (status.status === 'pending') return;
    registration.answered.add(requestId);
    send(client, registration, status);
  }

  /**
   * Answers one request on this connection, one look at a time: a decision arriving while its SUBACK is being
   * answered makes one more look, so the device gets its final answer once and never a "delivered before"
   * ahead of its own credentials.
   */
  function answerSoon(client: Client, registration: Registration, requestId: string): void {
    const { answering, answered } = registration;
    if (answered.has(requestId)) return;
    if (answering.has(requestId)) {
      answering.set(requestId, true);
      return;
    }
    answering.set(requestId, false);
    void (async () => {
      try {
        do {
          answering.set(requestId, false);
          await answer(client, registration, requestId);
        } while (answering.get(requestId) === true && !answered.has(requestId));
      } catch (error) {
        logger.error({ err: error, requestId }, 'registry: answering over MQTT failed');
      } finally {
        answering.delete(requestId);
      }
    })();
  }

  async function submit(client: Client, registration: Registration, payload: Buffer): Promise<void> {
    try {
      const wait = registry.admit(registration.ip, 'request');
      if (wait > 0) {
        const detail = `Too many registration requests from this address; try again in ${Math.ceil(wait / 1000)} s`;
        return send(client, registration, { status: 'refused', code: 'registry.throttled', detail });
      }
      if (payload.length > MAX_REQUEST_BYTES) {
        const detail = `The request is larger than ${MAX_REQUEST_BYTES} bytes`;
        return send(client, registration, { status: 'refused', code: 'request.invalid', detail });
      }
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return send(client, registration, {
          status: 'refused',
          code: 'request.invalid',
          detail: 'The request is not JSON',
        });
      }
      const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
      // The connection's client id is the request's, whatever the body says; its token is used when the body has none.
      const input = parseWith(RegistrationBody, {
        ...(registration.token === null ? {} : { token: registration.token }),
        ...fields,
        clientId: registration.clientId,
      });
      const submitted = await registry.submit({
        input,
        source: 'mqtt',
        meta: { ip: registration.ip, requestId: '' },
      });
      entitle(client, registration, submitted.requestId);
      send(client, registration, submitted);
    } catch (error) {
      if (error instanceof AppError) {
        return send(client, registration, { status: 'refused', code: error.code, detail: error.message });
      }
      logger.error({ err: error, clientId: registration.clientId }, 'registry: MQTT request failed');
      send(client, registration, { status: 'refused', code: 'server.error', detail: 'The request failed' });
    }
  }

  /** Admits a registration CONNECT, or says why not (the CONNACK return code). */
  async function admit(client: Client, password: string, ip: string): Promise<Registration | number> {
    const will = (client as unknown as { _will?: unknown })._will;
    if (!CLIENT_ID.test(client.id)) return IDENTIFIER_REJECTED;
    if (will || !client.clean || registry.admit(ip, 'poll') > 0) return NOT_AUTHORIZED;
    const registration = {
      clientId: client.id,
      ip,
      requests: new Set<string>(),
      answered: new Set<string>(),
      answering: new Map<string, boolean>(),
      subscribed: false,
    };
    if (password === '') {
      return (await registry.isUnlocked()) ? { ...registration, token: null } : NOT_AUTHORIZED;
    }
    if (ENROLMENT_TOKEN.parse(password)) {
      return (await registry.tokenAdmits(password)) ? { ...registration, token: password } : NOT_AUTHORIZED;
    }
    if (POLL_SECRET.parse(password)) {
      const row = await registry.ownedBy(password);
      if (!row || row.client_id !== client.id) return BAD_USERNAME_OR_PASSWORD;
      const admitted = { ...registration, token: null };
      admitted.requests.add(row.id);
      return admitted;
    }
    return BAD_USERNAME_OR_PASSWORD;
  }

  const wrapped: Hooks = {
    authenticate(client, username, password, done) {
      if (username !== REGISTRATION_USERNAME) return hooks.authenticate(client, username, password, done);
      const ip = remoteAddress(client);
      admit(client, password ? password.toString('utf8') : '', ip).then(
        (outcome) => {
          if (typeof outcome === 'number') return done(refusal(outcome, 'not authorized'), false);
          if (client.closed || client.conn.destroyed) return done(null, false);
          registrations.set(client, outcome);
          for (const requestId of outcome.requests) entitle(client, outcome, requestId);
          client.conn.once('close', () => forget(client, outcome));
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ err: error, clientId: client.id }, 'registry: registration CONNECT failed');
          done(refusal(NOT_AUTHORIZED, 'not authorized'), false);
        },
      );
    },

    authorizePublish(client, packet, callback) {
      const registration = client ? registrations.get(client) : undefined;
      if (!client || !registration) {
        if (client && touchesRegistryTopics(packet.topic)) {
          return callback(new Error('$warden/registry/ is reserved for the client registry'));
        }
        return hooks.authorizePublish(client, packet, callback);
      }
      const isWill = packet === (client as unknown as { will?: unknown }).will;
      if (isWill || packet.topic !== requestTopic(registration.clientId) || packet.qos > 1 || packet.retain) {
        return callback(new Error('a registration connection publishes its request only'));
      }
      consumed.add(packet);
      callback(null);
      void submit(client, registration, Buffer.from(packet.payload));
    },

    authorizeSubscribe(client, subscription, callback) {
      const registration = registrations.get(client);
      if (!registration) {
        if (touchesRegistryTopics(subscription.topic)) return callback(null, null);
        return hooks.authorizeSubscribe(client, subscription, callback);
      }
      if (subscription.topic !== responseTopic(registration.clientId)) return callback(null, null);
      callback(null, { ...subscription, qos: subscription.qos === 0 ? 0 : 1 });
    },

    authorizeForward(client, packet) {
      const registration = registrations.get(client);
      if (!registration)
        return touchesRegistryTopics(packet.topic) ? null : hooks.authorizeForward(client, packet);
      return packet.topic === responseTopic(registration.clientId) && answers.has(packet.payload as Buffer)
        ? packet
        : null;
    },
  };

  return {
    ...hooks,
    ...wrapped,
    attach(broker: Aedes) {
      hooks.attach(broker);
      // A request handled here ends at its PUBACK: it is never routed, stored or sent to another instance.
      const publish = broker.publish.bind(broker) as (...args: unknown[]) => void;
      (broker as unknown as { publish: (...args: unknown[]) => void }).publish = (packet, ...rest) => {
        if (typeof packet !== 'object' || packet === null || !consumed.has(packet))
          return publish(packet, ...rest);
        consumed.delete(packet);
        const done = rest.find((arg) => typeof arg === 'function') as ((error?: Error) => void) | undefined;
        done?.();
      };
      // Answers go out once the device listens: at its SUBACK, and when a decision reaches this instance.
      broker.on('subscribe', (subscriptions, client) => {
        const registration = registrations.get(client);
        if (!registration) return;
        const topic = responseTopic(registration.clientId);
        // aedes reports a refused filter with the granted code 128 in place of its QoS.
        if (!subscriptions.some((sub) => sub.topic === topic && (sub.qos as number) !== 128)) return;
        registration.subscribed = true;
        for (const requestId of registration.requests) answerSoon(client, registration, requestId);
      });
      broker.on('unsubscribe', (filters, client) => {
        const registration = registrations.get(client);
        if (registration && filters.includes(responseTopic(registration.clientId)))
          registration.subscribed = false;
      });
      const lookAgain = (requestId: string): void => {
        for (const client of waiting.get(requestId) ?? []) {
          const registration = registrations.get(client);
          if (registration?.subscribed) answerSoon(client, registration, requestId);
        }
      };
      const events = deps.services.infra.events;
      const stopDecided = events.on('registry.decided', ({ requestId }) => lookAgain(requestId));
      // This instance may have missed decisions: every waiting connection looks again.
      const stopReset = events.on('feed.reset', () => {
        for (const requestId of waiting.keys()) lookAgain(requestId);
      });
      broker.once('closed', () => {
        stopDecided();
        stopReset();
      });
    },
  };
}
