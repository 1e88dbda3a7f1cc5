import { defineErrors } from './app-error.js';

/** Codes that belong to no feature: transport, validation and server conditions. */
export const coreError = defineErrors({
  'request.invalid': {
    status: 400,
    title: 'Invalid request',
    description:
      'The body, query or path failed schema validation (`errors` lists each problem, with a `pointer` such as `/body/role` or `/querystring/page`), or the request is malformed (invalid JSON, URL or HTTP).',
  },
  'request.forbidden_path': {
    status: 403,
    title: 'Path refused',
    description:
      'The file server (API docs, console assets) refuses the path, e.g. one that could leave its folder.',
  },
  'request.ip_not_allowed': {
    status: 403,
    title: 'Address not allowed',
    description:
      'The management API answers only the networks of the security setting `apiAllowFrom`, and this request came from elsewhere (broker hooks, forward-auth, health and `/metrics` are not affected).',
  },
  'request.not_found': {
    status: 404,
    title: 'Not found',
    description: 'No route matches the path.',
  },
  'request.method_not_allowed': {
    status: 405,
    title: 'Method not allowed',
    description: 'The path exists but not for this method; the `Allow` header lists the methods it has.',
  },
  'request.timeout': {
    status: 408,
    title: 'Request timeout',
    description: 'The request did not arrive completely in time; the connection is closed.',
  },
  'request.precondition_failed': {
    status: 412,
    title: 'Precondition failed',
    description: 'A conditional header (`If-Match`, `If-Unmodified-Since`) of a file request does not hold.',
  },
  'request.too_large': {
    status: 413,
    title: 'Request too large',
    description: 'The body exceeds the size limit.',
  },
  'request.uri_too_long': {
    status: 414,
    title: 'URI too long',
    description: 'A path segment (such as a username) is longer than the router accepts (100 characters).',
  },
  'request.unsupported_media_type': {
    status: 415,
    title: 'Unsupported media type',
    description:
      'The request has a body that is not `application/json` (broker hooks also accept form-encoded bodies).',
  },
  'request.range_not_satisfiable': {
    status: 416,
    title: 'Range not satisfiable',
    description: 'The `Range` header of a file request lies outside the file.',
  },
  'request.headers_too_large': {
    status: 431,
    title: 'Request header fields too large',
    description: 'The URL and headers together exceed 16 KB; the connection is closed after the answer.',
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
  'server.shutting_down': {
    status: 503,
    title: 'Shutting down',
    description: 'The server is stopping and takes no new requests; the connection is closed. Retry shortly.',
  },
  'server.internal': {
    status: 500,
    title: 'Internal error',
    description: 'An unexpected error; the response carries a request id, details are in the server log.',
  },
});
