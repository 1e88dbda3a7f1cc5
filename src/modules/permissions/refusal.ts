import type { AppError } from '../../core/errors/app-error.js';
import { coreError } from '../../core/errors/core-errors.js';
import type { Decision } from './permissions.policy.js';

/** The error for a refused decision: its code, its message, and the machine-readable `denial` member. */
export function refusal(decision: Extract<Decision, { allowed: false }>): AppError {
  return coreError(decision.code, decision.message, { extensions: { denial: decision.denial } });
}

/** Throws the decision's error unless it allows. */
export function enforce(decision: Decision): void {
  if (!decision.allowed) throw refusal(decision);
}
