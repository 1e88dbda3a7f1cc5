import { type Clock, runAt } from '../../core/clock.js';
import type { DomainEventBus } from '../../core/events.js';
import type { AccessService, AccessSubject } from '../access/access.service.js';
import { decide } from '../access-engine/index.js';
import type { MqttConnection, MqttConnectionsService } from './mqtt-connections.service.js';

/** The subscriptions of `connection` that `subject` no longer allows (at their QoS). */
function revokedFilters(connection: MqttConnection, subject: AccessSubject): string[] {
  const identity = { username: subject.username, clientid: connection.clientId };
  const revoked: string[] = [];
  for (const [filter, qos] of connection.subscriptions()) {
    if (!decide(subject.compiled, identity, { action: 'subscribe', topic: filter, qos }).allowed) {
      revoked.push(filter);
    }
  }
  return revoked;
}

async function enforce(connection: MqttConnection, subject: AccessSubject): Promise<void> {
  const revoked = revokedFilters(connection, subject);
  if (revoked.length === 0) return;
  try {
    await connection.unsubscribe(revoked);
  } catch (error) {
    // Fail closed: a subscription that could not be removed must not keep delivering.
    connection.close();
    throw error;
  }
}

/**
 * Live revocation (docs/mqtt.md#live-revocation) on broker connections Warden holds: a deactivated, deleted
 * or re-passworded user is disconnected when the change is emitted (it must authenticate again) — after a
 * secret rotation with a grace period, when the grace period ends instead; after a role, rule or assignment
 * change each of the user's connections loses the subscriptions its new rules no longer allow; after a feed
 * reset (changes may have been missed) every connection is checked again. Publishes and deliveries need
 * nothing here: they are decided on the current compiled set every time.
 */
export function startLiveEnforcement(deps: {
  events: DomainEventBus;
  clock: Clock;
  access: AccessService;
  connections: MqttConnectionsService;
}): () => void {
  // Ends of grace periods still to come; cancelled when enforcement stops.
  const deadlines = new Set<() => void>();
  const closeAll = (connections: readonly MqttConnection[]): void => {
    for (const connection of connections) connection.close();
  };
  const offEvents = deps.events.on('user.changed', ({ username, change, graceUntil }) => {
    if (change !== 'password' && change !== 'deactivated' && change !== 'deleted') return;
    const connections = deps.connections.ofUser(username);
    if (graceUntil === undefined || graceUntil <= deps.clock.now()) {
      closeAll(connections);
      return;
    }
    // These connections were opened with the previous secret (the new one did not exist): they may stay while
    // it is valid. Connections opened with it later end on their own (MqttAuthService.hold). Held weakly, so
    // that connections closed meanwhile are not kept for the whole grace period.
    const opened = new WeakSet(connections);
    const cancel = runAt(deps.clock, graceUntil, () => {
      deadlines.delete(cancel);
      closeAll(deps.connections.ofUser(username).filter((connection) => opened.has(connection)));
    });
    deadlines.add(cancel);
  });
  // A revoked client certificate closes the connections made with it (docs/certificates.md#revocation).
  const offRevoked = deps.events.on('certificate.revoked', ({ serial, username }) => {
    closeAll(deps.connections.ofUser(username).filter((c) => c.certificateSerial === serial));
  });
  const apply = async (
    connections: readonly MqttConnection[],
    subject: AccessSubject | null,
  ): Promise<void> => {
    if (subject === null) {
      for (const connection of connections) connection.close();
      return;
    }
    await Promise.all(connections.map((connection) => enforce(connection, subject)));
  };
  const offSubjects = deps.access.onSubjectChange(({ username, subject }) =>
    apply(deps.connections.ofUser(username), subject),
  );
  // Changes may have been missed: every connected user is read afresh and its connections held to it.
  const offReset = deps.events.on('feed.reset', async () => {
    const byUser = new Map<string, MqttConnection[]>();
    for (const connection of deps.connections.all()) {
      const key = connection.username.toLowerCase();
      byUser.set(key, [...(byUser.get(key) ?? []), connection]);
    }
    for (const connections of byUser.values()) {
      const [first] = connections;
      if (first) await apply(connections, await deps.access.subject(first.username));
    }
  });
  return () => {
    for (const cancel of deadlines) cancel();
    deadlines.clear();
    offEvents();
    offRevoked();
    offSubjects();
    offReset();
  };
}
