import { defineErrors } from './app-error.js';

/** Codes that belong to no feature: transport, validation and server conditions. */
export const coreError = defineErrors({
  'request.invalid': {
    status: 400,
    title: 'Invalid request',
    description: 'The body, query or path failed schema validation; `errors` lists each problem.',
  },
  'request.not_found': {
    status: 404,
    title: 'Not found',
    description: 'No route matches the method and path.',
  },
  'request.too_large': {
    status: 413,
    title: 'Request too large',
    description: 'The body exceeds the size limit.',
  },
  'request.unsupported_media_type': {
    status: 415,
    title: 'Unsupported media type',
    description: 'The body is not JSON (or the content type this route accepts).',
  },
  'auth.required': {
    status: 401,
    title: 'Authentication required',
    description: 'No valid session (missing, expired, ended or tampered cookie).',
  },
  'auth.forbidden': {
    status: 403,
    title: 'Not permitted',
    description:
      "The actor's role, scopes or login step do not allow this operation, or it tried to grant a role or scope it does not hold; `denial` says what was missing.",
  },
  'auth.target_forbidden': {
    status: 403,
    title: 'Not permitted on this user',
    description:
      "The target user's role or scopes exceed the actor's, or it is the root user and the actor does not hold every scope; `denial` names the target and what it holds.",
  },
  'auth.cross_site': {
    status: 403,
    title: 'Cross-site request refused',
    description: 'A state-changing request came from another site (Origin / Sec-Fetch-Site).',
  },
  'server.busy': {
    status: 503,
    title: 'Server busy',
    description: 'Too many password verifications are queued; retry after the Retry-After delay.',
  },
  'server.unavailable': {
    status: 503,
    title: 'Not ready',
    description: 'The database is unreachable (readiness check).',
  },
  'server.internal': {
    status: 500,
    title: 'Internal error',
    description: 'An unexpected error; the response carries a request id, details are in the server log.',
  },
});
