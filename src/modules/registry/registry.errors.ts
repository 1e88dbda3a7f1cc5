import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of the device client registry (docs/registry.md). */
export const registryError = defineErrors({
  'registry.locked': {
    status: 403,
    title: 'Registry locked',
    description:
      'Devices may register only while an administrator has unlocked the registry (`POST /api/v1/registry/unlock`) or with an enrolment token.',
  },
  'registry.token_invalid': {
    status: 403,
    title: 'Enrolment token not valid',
    description:
      'The enrolment token is malformed, unknown, revoked, expired or used up: always the same answer.',
  },
  'registry.throttled': {
    status: 429,
    title: 'Too many registration requests',
    description:
      'This address sent more registration requests or polls than the registry accepts per minute; `Retry-After` says when to try again.',
  },
  'registry.full': {
    status: 429,
    title: 'Too many pending requests',
    description:
      'The registry holds its maximum of pending requests (`maxPending`, 1,000 by default) until administrators decide some or they expire; try again later.',
  },
  'registry.username_taken': {
    status: 409,
    title: 'Username taken',
    description: 'A user or a pending registration request has this username (case-insensitively).',
  },
  'registry.metadata_too_large': {
    status: 400,
    title: 'Metadata too large',
    description: '`metadata` is a JSON object of at most 2,048 bytes (as JSON) and 32 members.',
  },
  'registry.request_not_found': {
    status: 404,
    title: 'Registration request not found',
    description:
      'No request has this id, or the poll secret does not belong to it: always the same answer, so ids cannot be probed.',
  },
  'registry.request_decided': {
    status: 409,
    title: 'Request already decided',
    description: 'The request was approved or rejected already.',
  },
  'registry.request_expired': {
    status: 409,
    title: 'Request expired',
    description:
      'The request waited longer than `requestExpiryHours` and can no longer be decided; the device must ask again.',
  },
  'registry.token_not_found': {
    status: 404,
    title: 'Enrolment token not found',
    description: 'No enrolment token has this id (it may have been revoked).',
  },
  'registry.token_expiry_invalid': {
    status: 400,
    title: 'Token expiry out of range',
    description: '`expiresAt` must lie in the future and at most a year ahead.',
  },
});

/** The 429 of the per-address rate limit, with its Retry-After. */
export function registryThrottled(retryAfterMs: number): Error {
  return registryError('registry.throttled', 'Too many registration requests from this address', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}
