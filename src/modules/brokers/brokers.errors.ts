import { type AppError, defineErrors } from '../../core/errors/app-error.js';

/** Error codes of external broker integrations and their hook endpoints. */
export const brokerError = defineErrors({
  'broker.not_found': {
    status: 404,
    title: 'Broker integration not found',
    description: 'No broker integration has this name (names are matched case-insensitively).',
  },
  'broker.exists': {
    status: 409,
    title: 'Broker integration already exists',
    description: 'The name is taken (integration names are unique case-insensitively).',
  },
  'broker.invalid_config': {
    status: 400,
    title: 'Invalid broker configuration',
    description:
      "The settings do not fit the integration's kind (unknown field, bad CIDR, missing admin password, short token); `errors` lists each problem.",
  },
  'broker.immutable': {
    status: 400,
    title: 'Name and kind cannot change',
    description:
      "A PUT carried a name or kind different from the integration's; create a new integration instead.",
  },
  'broker.version_conflict': {
    status: 409,
    title: 'Broker integration changed meanwhile',
    description: 'The `version` sent with the update is not the current one; reload and retry.',
  },
  'broker.wrong_kind': {
    status: 400,
    title: 'Not supported by this kind',
    description:
      'The operation needs another kind of integration (e.g. `warden mosquitto …` on an EMQX integration).',
  },
  'broker.ambiguous': {
    status: 400,
    title: 'Which integration?',
    description: 'Several Mosquitto integrations exist; name one (`--integration <name>`).',
  },
  'broker.unreachable': {
    status: 502,
    title: 'Broker unreachable or refused',
    description:
      'A sync could not reach the broker, timed out, or the broker refused a command; `detail` says which. The status keeps the error.',
  },
  'hook.throttled': {
    status: 429,
    title: 'Too many hook requests',
    description:
      'The source exceeded its hook rate limit, or sent too many requests with a wrong credential; retry after Retry-After seconds.',
  },
});

/** 429 for a hook source over its limit, with the Retry-After header (whole seconds, at least 1). */
export function hookThrottled(retryAfterMs: number): AppError {
  return brokerError('hook.throttled', 'Too many hook requests from this source', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}
