import type { EmqxAuthzRequest } from '../../integrations/emqx/emqx-hooks.js';
import { emqxActionOf } from '../../integrations/emqx/emqx-hooks.js';
import type { GoAuthAnswer } from '../../integrations/go-auth/go-auth-integration.js';
import { GO_AUTH_ACTION_OF_ACC } from '../../integrations/go-auth/go-auth-integration.js';
import type { VernemqHook, VernemqReply } from '../../integrations/vernemq/vernemq-integration.js';
import type { DecisionAction, DecisionResult } from '../mqtt/decision-counts.js';

/**
 * How each broker's hook answers read as MQTT decisions for the metrics (docs/metrics.md): which action was
 * asked about and what the answer was, from the request and the reply the hook route already has — the
 * integrations themselves stay free of counting.
 */

export const emqxResult = (reply: { result: DecisionResult }): DecisionResult => reply.result;

export const emqxAuthzAction = (body: EmqxAuthzRequest): DecisionAction | null => emqxActionOf(body);

export const goAuthResult = (answer: GoAuthAnswer): DecisionResult => (answer.ok ? 'allow' : 'deny');

export const goAuthAclAction = (acc: number): DecisionAction | null => GO_AUTH_ACTION_OF_ACC[acc] ?? null;

/** VerneMQ's `ok` (with or without rewritten topics) allows, `next` leaves it to the next plugin. */
export function vernemqResult(reply: VernemqReply): DecisionResult {
  if (reply.result === 'ok') return 'allow';
  return reply.result === 'next' ? 'ignore' : 'deny';
}

export function vernemqAction(hook: VernemqHook): DecisionAction {
  if (hook.startsWith('auth_on_register')) return 'connect';
  return hook.startsWith('auth_on_publish') ? 'publish' : 'subscribe';
}
