import type { Actor } from './roles.policy.js';

/** Who is acting and from where: passed to every service operation so the audit event can be written. */
export interface OperationContext {
  readonly actor: Actor;
  readonly ip: string;
  readonly requestId: string;
}

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
