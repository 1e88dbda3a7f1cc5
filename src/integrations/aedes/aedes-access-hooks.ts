import { TLSSocket } from 'node:tls';
import type { Aedes, AedesOptions, Client } from 'aedes';
import type { Logger } from 'pino';
import type { AccessSubject } from '../../modules/access/access.service.js';
import { acceptsSubscription, decide, type QoS } from '../../modules/access-engine/index.js';
import type { DecisionAction } from '../../modules/mqtt/decision-counts.js';
import type { MqttRefusal } from '../../modules/mqtt/mqtt-auth.service.js';
import type { Services } from '../../services.js';
import { AedesConnection } from './aedes-connection.js';
import { presentedCertificate } from './client-certificates.js';

type Hooks = Required<
  Pick<
    AedesOptions,
    'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
  >
>;

/** aedes' `protocolVersion` of an MQTT 3.1 CONNECT (3.1.1 is 4). */
const MQTT_3_1 = 3;

/** MQTT 3.1.1 CONNACK return codes (aedes' `AuthErrorCode`, a const enum isolated modules cannot import). */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

const RETURN_CODES: Record<MqttRefusal, number> = {
  bad_credentials: BAD_USERNAME_OR_PASSWORD,
  throttled: NOT_AUTHORIZED,
  unavailable: SERVER_UNAVAILABLE,
  not_authorized: NOT_AUTHORIZED,
};

/**
 * Set on a will when aedes stores it. When an instance stops without closing its connections (a crash), another
 * instance sharing its Redis publishes the wills it left behind; aedes then asks `authorizePublish` without a
 * client (that connection is gone), so the will carries whose it is. Clients cannot set it: the MQTT parser
 * builds the will from the CONNECT's fields only.
 */
const WILL_OWNER = 'wardenUser';

/** The part of aedes' persistence (documented aedes-persistence interface) that holds wills. */
interface WillStore {
  putWill(client: Client, packet: object): Promise<void>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
}

/** A will left by a stopped instance was refused (and dropped); aedes reports it as an error, already logged. */
export class WillRefused extends Error {}

function refusal(returnCode: number, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

function willStore(broker: Aedes): WillStore {
  // aedes sets `persistence` in listen() but does not declare it in its types.
  return (broker as unknown as { persistence: WillStore }).persistence;
}

function remoteAddress(client: Client): string {
  const conn = client.conn;
  return 'remoteAddress' in conn ? (conn.remoteAddress ?? '') : '';
}

/**
 * The broker's access checks, all through Warden's services: CONNECT authenticates a Warden user; PUBLISH,
 * SUBSCRIBE and every delivery (retained messages and offline queues included) are decided by the rule engine
 * on the user's current compiled rules. Hot paths read the compiled set synchronously (`access.peek`) and fall
 * back to a database read only for a user not loaded yet.
 */
export function createAccessHooks(deps: { services: Services; logger: Logger }): Hooks & {
  attach(broker: Aedes): void;
  usernameOf(client: Client): string | undefined;
  /** PUBLISH packets the access rules refused since the broker started (wills not included). */
  deniedPublishes(): number;
} {
  const { access, mqttAuth, mqttConnections, mqttPublishDenials, mqttDecisions, settings, infra } =
    deps.services;
  /** Counted for the metrics (docs/metrics.md): one array increment per decision. */
  const decided = (action: DecisionAction, allowed: boolean): void =>
    mqttDecisions.count('embedded', action, allowed ? 'allow' : 'deny');
  const { logger } = deps;
  const connections = new WeakMap<Client, AedesConnection>();
  /** Clients whose CONNECT has an empty client id where the protocol needs one, refused at authentication. */
  const identifierRejected = new WeakSet<Client>();
  /** Refused PUBLISH packets that aedes acknowledges but must not route (see `attach`). */
  const dropped = new WeakSet<object>();
  let denied = 0;
  let broker: Aedes | null = null;

  /**
   * The subject for a hot-path check: synchronous when known, else read once (a subscriber may never publish).
   * When the read fails, `failed` is told if given, else the subject counts as unknown (null).
   */
  function withSubject(
    username: string,
    use: (subject: AccessSubject | null) => void,
    failed?: (error: Error) => void,
  ): void {
    const known = access.peek(username);
    if (known !== undefined) {
      use(known);
      return;
    }
    access.subject(username).then(use, (error: unknown) => {
      logger.error({ err: error, username }, 'mqtt: reading access rules failed');
      if (failed) failed(error as Error);
      else use(null);
    });
  }

  /** Counts, logs and audits (both bounded) a refused PUBLISH; never its payload. */
  function publishDenied(
    connection: AedesConnection,
    packet: { topic: string; qos: number; retain: boolean },
  ) {
    denied++;
    const denial = {
      username: connection.username,
      clientId: connection.clientId,
      ip: connection.ip,
      topic: packet.topic,
      qos: packet.qos as QoS,
      retain: packet.retain,
      action: settings.cachedSecurity().mqtt.denyAction,
    };
    mqttPublishDenials.record(denial).then(
      (audited) => {
        if (audited)
          logger.warn(
            { ...denial, topic: denial.topic.slice(0, 200) },
            'mqtt: publish refused by the access rules',
          );
      },
      (error: unknown) => logger.error({ err: error }, 'mqtt: auditing a refused publish failed'),
    );
    return denial.action;
  }

  const hooks: Hooks = {
    // MQTT 3.1.1 lets a client leave its id empty only with cleanSession=true [MQTT-3.1.3-7, MQTT-3.1.3-8]
    // (aedes then assigns one); MQTT 3.1 always needs one. aedes accepts both, and a preConnect error closes the
    // connection without CONNACK, so the refusal is noted here and answered by `authenticate` with CONNACK 2.
    preConnect(client, packet, callback) {
      if (packet.clientId === '' && (packet.protocolVersion === MQTT_3_1 || !packet.clean))
        identifierRejected.add(client);
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      if (identifierRejected.has(client)) {
        decided('connect', false);
        return done(refusal(IDENTIFIER_REJECTED, 'identifier rejected'), false);
      }
      const ip = remoteAddress(client);
      const attempt = { username, password, clientId: client.id, ip, usernameOptional: true };
      // A client certificate (TLS listener) is judged by itself; without one, the password (or token) decides.
      const presented = presentedCertificate(client.conn);
      (presented ? mqttAuth.authenticateCertificate(attempt, presented) : mqttAuth.authenticate(attempt))
        .then(async (result) => {
          if (!result.ok) {
            if (result.error)
              logger.error({ err: result.error, clientId: client.id }, 'mqtt: CONNECT failed');
            decided('connect', false);
            return done(refusal(RETURN_CODES[result.reason], 'not authorized'), false);
          }
          if (client.closed || client.conn.destroyed || broker === null) return done(null, false);
          const connection = new AedesConnection(
            broker,
            client,
            result.user.username,
            ip,
            client.conn instanceof TLSSocket ? 'mqtts' : 'mqtt',
            infra.clock.now(),
            result.certificateSerial ?? null,
          );
          // Registered before the rules are read: a revocation emitted from here on finds the connection.
          connections.set(client, connection);
          mqttConnections.add(connection);
          // A credential with an end (a token's expiry, a grace period) closes the connection when it ends.
          const release = mqttAuth.hold(result.credential, connection, result.validUntil);
          client.conn.once('close', () => {
            mqttConnections.remove(connection);
            release();
          });
          const subject = await access.subject(result.user.username);
          if (subject === null) {
            mqttConnections.remove(connection);
            decided('connect', false);
            return done(refusal(BAD_USERNAME_OR_PASSWORD, 'not authorized'), false);
          }
          decided('connect', true);
          done(null, true);
        })
        .catch((error: unknown) => {
          logger.error({ err: error, clientId: client.id }, 'mqtt: CONNECT failed');
          decided('connect', false);
          done(refusal(SERVER_UNAVAILABLE, 'server unavailable'), false);
        });
    },

    // MQTT 3.1.1 has no negative PUBACK. A refused PUBLISH is acknowledged and dropped (setting
    // `mqtt.denyAction` = ignore), or refused with an error, on which aedes closes the connection (disconnect).
    // A refused will is not published either way.
    authorizePublish(client, packet, callback) {
      const owner = (packet as { [WILL_OWNER]?: unknown })[WILL_OWNER];
      if (typeof owner === 'string') return authorizeLeftWill(owner, packet, callback);
      const connection = client ? connections.get(client) : undefined;
      if (!client || !connection) return callback(new Error('publish without an authenticated client'));
      // Read now: aedes clears `client.will` (set, untyped, once connected) right after asking about it
      // (node_modules/aedes/lib/client.js).
      const isWill = packet === (client as unknown as { will?: unknown }).will;
      const refused = () => new Error(`not authorized to publish to ${packet.topic.slice(0, 200)}`);
      withSubject(
        connection.username,
        (subject) => {
          const allowed =
            subject !== null &&
            connection.memo.allows(subject, 'publish', packet.topic, packet.qos, packet.retain);
          decided('publish', allowed);
          if (allowed) return callback(null);
          if (isWill) return callback(refused());
          if (publishDenied(connection, packet) === 'disconnect') return callback(refused());
          dropped.add(packet);
          callback(null);
        },
        // Not a refusal: the connection closes and the client sends its QoS 1/2 message again on reconnect.
        (error) => callback(error),
      );
    },

    // A refusal answers SUBACK 128 for that filter and keeps the connection.
    authorizeSubscribe(client, subscription, callback) {
      const connection = connections.get(client);
      // aedes does not implement shared subscriptions: a `$share/...` filter would silently be a plain one.
      if (!connection || subscription.topic.startsWith('$share/')) return callback(null, null);
      withSubject(connection.username, (subject) => {
        const qos = subscription.qos as QoS;
        // A partial grant is safe here: authorizeForward checks every delivery, carve-outs included.
        const allowed =
          subject !== null &&
          acceptsSubscription(
            decide(subject.compiled, connection.identity, {
              action: 'subscribe',
              topic: subscription.topic,
              qos,
            }),
            true,
          );
        decided('subscribe', allowed);
        if (!allowed) return callback(null, null);
        connection.track(subscription.topic, qos);
        callback(null, subscription);
      });
    },

    // Synchronous in aedes: a user whose rules are not loaded gets nothing until they are (loading starts here).
    authorizeForward(client, packet) {
      const connection = connections.get(client);
      if (!connection) return null;
      const subject = access.peek(connection.username);
      if (subject === undefined) withSubject(connection.username, () => {});
      const allowed =
        subject !== undefined &&
        subject !== null &&
        connection.memo.allows(subject, 'receive', packet.topic, packet.qos, packet.retain);
      decided('receive', allowed);
      return allowed ? packet : null;
    },
  };

  /**
   * The will of a client whose instance stopped without closing it, published by this instance: decided for the
   * user who connected it, with the client id it connected with. A refused will is dropped from the store, or
   * aedes would offer it again every few minutes.
   */
  function authorizeLeftWill(
    username: string,
    packet: Parameters<Hooks['authorizePublish']>[1],
    callback: Parameters<Hooks['authorizePublish']>[2],
  ): void {
    const { clientId, brokerId } = packet as { clientId?: unknown; brokerId?: unknown };
    access.subject(username).then(
      (subject) => {
        const allowed =
          subject !== null &&
          typeof clientId === 'string' &&
          decide(
            subject.compiled,
            { username, clientid: clientId },
            {
              action: 'publish',
              topic: packet.topic,
              qos: packet.qos as QoS,
              retain: packet.retain,
            },
          ).allowed;
        if (allowed) {
          logger.info({ username, clientId }, 'mqtt: publishing the will of a client of a stopped instance');
          return callback(null);
        }
        logger.warn(
          { username, clientId, topic: packet.topic.slice(0, 200) },
          'mqtt: will of a client of a stopped instance refused and dropped',
        );
        const dropped =
          broker && typeof clientId === 'string' && typeof brokerId === 'string'
            ? willStore(broker).delWill({ id: clientId, brokerId })
            : Promise.resolve();
        const refused = new WillRefused(`not authorized to publish to ${packet.topic.slice(0, 200)}`);
        dropped.then(
          () => callback(refused),
          () => callback(refused),
        );
      },
      (error: unknown) => {
        // Kept: the next round (aedes retries left wills every four heartbeats) may find the database again.
        logger.error({ err: error, username }, 'mqtt: reading access rules failed');
        callback(error as Error);
      },
    );
  }

  return {
    ...hooks,
    /** The Warden user a client authenticated as, or undefined before (or without) authentication. */
    usernameOf(client) {
      return connections.get(client)?.username;
    },
    deniedPublishes: () => denied,
    attach(instance) {
      broker = instance;
      // aedes has no "acknowledge and drop" answer for authorizePublish: an error closes the connection, success
      // routes the message (node_modules/aedes/docs/Aedes.md). Its PUBLISH handler
      // (node_modules/aedes/lib/handlers/publish.js) passes the very packet it authorized to `broker.publish`:
      // for QoS 0 directly, for QoS 1 after writing the PUBACK, for QoS 2 after storing it for the PUBREL and
      // before writing the PUBREC. A packet marked dropped ends there, so the client's handshake completes
      // exactly as for a delivered message, and nothing is stored as retained, queued or sent to subscribers.
      // Every other publish (wills, aedes' own $SYS notices) passes through unchanged.
      const publish = instance.publish.bind(instance) as (...args: unknown[]) => void;
      (instance as unknown as { publish: (...args: unknown[]) => void }).publish = (packet, ...rest) => {
        if (typeof packet !== 'object' || packet === null || !dropped.has(packet))
          return publish(packet, ...rest);
        dropped.delete(packet);
        const done = rest.find((arg) => typeof arg === 'function') as ((error?: Error) => void) | undefined;
        done?.();
      };
      instance.on('unsubscribe', (filters, client) => connections.get(client)?.untrack(filters));
      // aedes stores a will right after authentication (node_modules/aedes/lib/handlers/connect.js); the stored copy names its owner.
      // The client's own copy (published when its connection drops on this instance) stays as it was sent.
      const store = willStore(instance);
      const putWill = store.putWill.bind(store);
      store.putWill = (client, packet) =>
        putWill(client, { ...packet, [WILL_OWNER]: connections.get(client)?.username });
    },
  };
}
