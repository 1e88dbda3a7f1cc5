import { EventEmitter } from 'node:events';

/**
 * Facts other parts of Warden react to after a change has committed (the embedded broker closes connections,
 * broker integrations resync, caches drop entries). Emitted only after the transaction commits, so a listener
 * never sees a change that was rolled back.
 */
export interface DomainEvents {
  /** A user's identity, credentials, status or assignments changed. `username` is the natural key. */
  'user.changed': {
    userId: string;
    username: string;
    change: 'created' | 'updated' | 'password' | 'deactivated' | 'reactivated' | 'deleted' | 'access_roles';
  };
  /** An access role's rules changed or it was deleted; holders must be re-evaluated. */
  'access_role.changed': { name: string; change: 'created' | 'updated' | 'deleted' };
  /** Settings changed (security policy, integrations). */
  'settings.changed': { key: string };
}

export type DomainEventName = keyof DomainEvents;

/** A typed wrapper over EventEmitter; listener errors are reported, never thrown into the emitting request. */
export class DomainEventBus {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (error: unknown, event: DomainEventName) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  on<E extends DomainEventName>(
    event: E,
    listener: (payload: DomainEvents[E]) => void | Promise<void>,
  ): () => void {
    const wrapped = (payload: DomainEvents[E]): void => {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.onListenerError(error, event));
      } catch (error) {
        this.onListenerError(error, event);
      }
    };
    this.emitter.on(event, wrapped);
    return () => this.emitter.off(event, wrapped);
  }

  emit<E extends DomainEventName>(event: E, payload: DomainEvents[E]): void {
    this.emitter.emit(event, payload);
  }
}
