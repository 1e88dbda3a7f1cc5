import type { Aedes, Client } from 'aedes';
import type { Identity, QoS } from '../../modules/access-engine/index.js';
import { DecisionMemo } from '../../modules/mqtt/decision-memo.js';
import type { MqttConnection } from '../../modules/mqtt/mqtt-connections.service.js';

/** The part of aedes' persistence (documented aedes-persistence interface) used to drop stored subscriptions. */
interface SubscriptionStore {
  removeSubscriptions(client: Client, topics: string[]): Promise<void>;
}

function persistenceOf(broker: Aedes): SubscriptionStore {
  // aedes sets `persistence` in listen() but does not declare it in its types.
  return (broker as unknown as { persistence: SubscriptionStore }).persistence;
}

/** An authenticated aedes client as live enforcement and the connected-clients API see it. */
export class AedesConnection implements MqttConnection {
  /** Placeholder values for this connection's decisions, built once. */
  readonly identity: Identity;
  /** Publish and delivery decisions of this connection's recent topics. */
  readonly memo: DecisionMemo;
  readonly #subscriptions = new Map<string, QoS>();

  constructor(
    private readonly broker: Aedes,
    private readonly client: Client,
    readonly username: string,
    readonly ip: string,
    readonly listener: 'mqtt' | 'mqtts',
    readonly connectedAt: number,
    readonly certificateSerial: string | null = null,
  ) {
    this.identity = { username, clientid: client.id };
    this.memo = new DecisionMemo(this.identity);
  }

  get clientId(): string {
    return this.client.id;
  }

  subscriptions(): ReadonlyMap<string, QoS> {
    return this.#subscriptions;
  }

  /** Called when a subscription was authorized (new or restored from a persistent session). */
  track(filter: string, qos: QoS): void {
    this.#subscriptions.set(filter, qos);
  }

  untrack(filters: readonly string[]): void {
    for (const filter of filters) this.#subscriptions.delete(filter);
  }

  /**
   * aedes has no API to revoke a subscription, but `Client#unsubscribe` (public, typed) runs the UNSUBSCRIBE
   * handler without a packet id: the matcher entry goes, no UNSUBACK is sent, the `unsubscribe` event fires.
   * A persistent session's stored copy is dropped too, so it is not restored on reconnect (restored ones would
   * be re-authorized and refused anyway).
   */
  async unsubscribe(filters: readonly string[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.client.unsubscribe({ cmd: 'unsubscribe', unsubscriptions: [...filters] }, (error) =>
        error ? reject(error) : resolve(),
      );
    });
    this.untrack(filters);
    if (!this.client.clean) await persistenceOf(this.broker).removeSubscriptions(this.client, [...filters]);
  }

  close(): void {
    this.client.close();
  }
}
