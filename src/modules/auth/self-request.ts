import type { FastifyRequest } from 'fastify';
import { coreError } from '../../core/errors/core-errors.js';
import { operationContext } from '../../http/access-guard.js';
import type { SelfContext } from '../permissions/operation-context.js';
import type { ResolvedSession } from '../sessions/sessions.service.js';

/** The caller's session and a context whose actor is that user, for routes where a user acts on itself. */
export function selfRequest(request: FastifyRequest): { ctx: SelfContext; session: ResolvedSession } {
  const ctx = operationContext(request);
  const session = request.auth;
  if (!session || ctx.actor.type !== 'user') throw coreError('auth.required');
  return { ctx: { ...ctx, actor: ctx.actor }, session };
}
