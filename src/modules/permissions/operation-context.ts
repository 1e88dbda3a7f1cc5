import type { Actor } from './permissions.policy.js';

/** Who is acting and from where: passed to every service operation so the audit event can be written. */
export interface OperationContext {
  readonly actor: Actor;
  readonly ip: string;
  readonly requestId: string;
}

/** A request made by a signed-in user about themselves (self-service). */
export type SelfContext = OperationContext & { readonly actor: Extract<Actor, { type: 'user' }> };

export const CLI_CONTEXT: OperationContext = Object.freeze({
  actor: { type: 'cli' } as const,
  ip: '',
  requestId: '',
});
export const SYSTEM_CONTEXT: OperationContext = Object.freeze({
  actor: { type: 'system' } as const,
  ip: '',
  requestId: '',
});
