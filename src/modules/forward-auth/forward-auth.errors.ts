import { type AppError, defineErrors } from '../../core/errors/app-error.js';

/** Error codes of forward-auth (`GET /api/v1/forward-auth`, docs/forward-auth.md). */
export const forwardAuthError = defineErrors({
  'forward_auth.missing_headers': {
    status: 400,
    title: 'Not a forwarded request',
    description:
      'The request lacks the proxy headers naming the original request (`X-Original-Method` + `X-Original-URI`, or `X-Forwarded-Method` + `X-Forwarded-Uri`), or one is malformed: the proxy is misconfigured. Never an allow.',
  },
  'forward_auth.denied': {
    status: 403,
    title: 'Not allowed by the access rules',
    description:
      "The identity is valid, but no HTTP rule of the user's access roles allows this method and path (a deny rule matched, none matched, or the path was refused by canonicalisation).",
  },
  'forward_auth.throttled': {
    status: 401,
    title: 'Too many attempts',
    description:
      'HTTP Basic credentials for this account or address failed too often (the login throttle); `Retry-After` says when to try again. 401, not 429, because nginx `auth_request` turns any other status into a 500.',
  },
  'forward_auth.unavailable': {
    status: 503,
    title: 'Forward-auth unavailable',
    description:
      'This instance has lost touch with the change feed, so its caches may be stale: it refuses rather than allow on old data (docs/architecture.md#change-feed).',
  },
});

/** The refusal of a throttled Basic credential, with the throttle's `Retry-After`. */
export function forwardAuthThrottled(retryAfter: string): AppError {
  return forwardAuthError('forward_auth.throttled', 'Too many attempts, try again later', {
    headers: { 'retry-after': retryAfter },
  });
}
