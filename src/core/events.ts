/**
 * Facts other parts of Warden react to after a change has committed (the embedded broker closes connections,
 * broker integrations resync, caches drop entries). They are written to the change feed in the change's own
 * transaction and reach every process — this one, the CLI's changes, other instances' — only through it
 * (src/db/change-feed/), so a listener never sees a change that was rolled back, and sees every committed one.
 * Payloads are JSON (they are stored): names and ids, never secrets.
 */
export interface DomainEvents {
  /** A user's identity, credentials, status, MFA or assignments changed. `username` is the natural key. */
  'user.changed': {
    userId: string;
    username: string;
    change:
      | 'created'
      | 'updated'
      | 'password'
      | 'deactivated'
      | 'reactivated'
      | 'deleted'
      | 'access_roles'
      | 'mfa';
    /**
     * With `change: 'password'` after a secret rotation with a grace period: the previous secret is accepted
     * until then (epoch ms), so the user's live connections stay open until that time instead of closing now.
     */
    graceUntil?: number;
  };
  /** An access role's rules changed or it was deleted; holders must be re-evaluated. */
  'access_role.changed': { name: string; change: 'created' | 'updated' | 'deleted' };
  /** Settings changed (the security policy). */
  'settings.changed': { key: string };
  /** Sessions were ended (logout, revocation); `sessionIds` of the user `userId`. */
  'session.ended': { userId: string; sessionIds: string[] };
  /** A broker integration's settings changed (created, updated, enabled, disabled, deleted). */
  'broker.changed': { id: string; name: string; change: 'created' | 'updated' | 'deleted' };
  /** An SSO provider was created, changed (enabled, disabled, its issuer, client or mapping) or deleted. */
  'sso_provider.changed': { name: string; change: 'created' | 'updated' | 'deleted' };
  /** A certificate Warden's CA issued was revoked (`serial`: lower-case hex): connections made with it close. */
  'certificate.revoked': { serial: string; username: string };
  /**
   * A device's registration request was approved or rejected (docs/registry.md): the embedded broker answers a
   * device that waits for it over MQTT on whichever instance holds its connection.
   */
  'registry.decided': { requestId: string; username: string; decision: 'approved' | 'rejected' };
  /**
   * This process may have missed changes (it fell further behind than the feed keeps): every cache must be
   * dropped and live state re-checked. Emitted by the follower, never written to the feed.
   */
  'feed.reset': { reason: string };
}

/** The events that are written to the change feed. */
export type FeedEventName = Exclude<keyof DomainEvents, 'feed.reset'>;

export type DomainEventName = keyof DomainEvents;

type Listener = (payload: never) => void | Promise<void>;

/**
 * Typed publish/subscribe inside one process. Listener errors are reported, never thrown into the emitter;
 * `emit` resolves once every listener has finished (asynchronous ones included), so whoever delivers an event
 * can tell when it has been applied.
 */
export class DomainEventBus {
  readonly #listeners = new Map<DomainEventName, Set<Listener>>();

  constructor(
    private readonly onListenerError: (error: unknown, event: DomainEventName) => void = () => {},
  ) {}

  on<E extends DomainEventName>(
    event: E,
    listener: (payload: DomainEvents[E]) => void | Promise<void>,
  ): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** Calls every listener of `event` (synchronous parts at once, in subscription order); resolves when all are done. */
  async emit<E extends DomainEventName>(event: E, payload: DomainEvents[E]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        const result = (listener as (payload: DomainEvents[E]) => void | Promise<void>)(payload);
        if (result instanceof Promise) {
          pending.push(result.catch((error: unknown) => this.onListenerError(error, event)));
        }
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
    await Promise.all(pending);
  }
}
