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
 * or re-passworded user is disconnected when the change is emitted (it must authenticate again); after a
 * role, rule or assignment change each of the user's connections loses the subscriptions its new rules no
 * longer allow. Publishes and deliveries need nothing here: they are decided on the current compiled set
 * every time.
 */
export function startLiveEnforcement(deps: {
  events: DomainEventBus;
  access: AccessService;
  connections: MqttConnectionsService;
}): () => void {
  const offEvents = deps.events.on('user.changed', ({ username, change }) => {
    if (change !== 'password' && change !== 'deactivated' && change !== 'deleted') return;
    for (const connection of deps.connections.ofUser(username)) connection.close();
  });
  const offSubjects = deps.access.onSubjectChange(async ({ username, subject }) => {
    const connections = deps.connections.ofUser(username);
    if (subject === null) {
      for (const connection of connections) connection.close();
      return;
    }
    await Promise.all(connections.map((connection) => enforce(connection, subject)));
  });
  return () => {
    offEvents();
    offSubjects();
  };
}
