import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { coreError } from '../../core/errors/core-errors.js';
import type { App } from '../../http/fastify-types.js';
import type { HttpRequest } from '../access-engine/index.js';
import { forwardAuthError } from './forward-auth.errors.js';

const tags = ['forward-auth'];

/** The answer body of an allowed request (proxies read the headers; the body is for people and logs). */
const AllowedSchema = Type.Object({ username: Type.String(), role: Type.String() });

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A method token as HTTP defines it (RFC 9110 §9.1); anything else is a broken proxy configuration. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

/**
 * The original request as the proxy names it: nginx `auth_request` sends `X-Original-Method`/`X-Original-URI`
 * (as configured in docs/forward-auth.md), Traefik and Caddy `X-Forwarded-Method`/`X-Forwarded-Uri`. A proxy
 * passes the client's own headers along, so a client could add the other pair: when both pairs are present
 * they must agree, else the request is refused (400) — never decided on a value the proxy did not set.
 */
function originalRequest(request: FastifyRequest): HttpRequest {
  const original = { method: header(request, 'x-original-method'), path: header(request, 'x-original-uri') };
  const forwarded = {
    method: header(request, 'x-forwarded-method'),
    path: header(request, 'x-forwarded-uri'),
  };
  const pairs = [original, forwarded].filter((pair) => pair.method !== undefined || pair.path !== undefined);
  const [first] = pairs;
  if (first?.method === undefined || first.path === undefined) {
    throw forwardAuthError(
      'forward_auth.missing_headers',
      'Send X-Original-Method and X-Original-URI (nginx) or X-Forwarded-Method and X-Forwarded-Uri (Traefik, Caddy)',
    );
  }
  if (pairs.some((pair) => pair.method !== first.method || pair.path !== first.path)) {
    throw forwardAuthError(
      'forward_auth.missing_headers',
      'X-Original-* and X-Forwarded-* name different requests',
    );
  }
  if (!METHOD.test(first.method)) {
    throw forwardAuthError('forward_auth.missing_headers', 'The forwarded method is no HTTP method');
  }
  return { method: first.method.toUpperCase(), path: first.path };
}

export async function forwardAuthRoutes(app: App): Promise<void> {
  const { forwardAuth } = app.services;

  app.get(
    '/api/v1/forward-auth',
    {
      // Decided by the identity of the forwarded request (session cookie, Basic, Bearer) rather than the
      // management policy: the guard admits it only with one (docs/forward-auth.md).
      config: { access: { kind: 'forwarded' } },
      schema: {
        tags,
        summary: "Forward-auth for reverse proxies: the user's HTTP rules on the original request",
        description:
          'For nginx `auth_request`, Traefik ForwardAuth and Caddy `forward_auth` (docs/forward-auth.md). 200 with `X-Warden-User` and `X-Warden-Role` when a rule allows; 401 without a valid identity; 403 when no rule allows; 400 without the proxy headers.',
        security: [{ session: [] }, { basic: [] }],
        response: { 200: AllowedSchema },
      },
    },
    async (request, reply) => {
      const identity = request.forwardedIdentity;
      if (!identity) throw coreError('auth.required');
      const decision = await forwardAuth.decide(identity, originalRequest(request));
      if (decision.reason === 'user_inactive') throw coreError('auth.required', 'The user is deactivated');
      if (!decision.allowed || decision.role === undefined) {
        throw forwardAuthError(
          'forward_auth.denied',
          `No HTTP rule allows this request for ${identity.username}`,
        );
      }
      // Per request: a proxy must never cache an answer that a rule change or deactivation would revoke.
      reply.headers({
        'cache-control': 'no-store',
        'x-warden-user': identity.username,
        'x-warden-role': decision.role,
      });
      return { username: identity.username, role: decision.role };
    },
  );
}
