import type { FastifyInstance, FastifyRequest } from 'fastify';
import { coreError } from '../core/errors/core-errors.js';
import type { OperationContext } from '../modules/roles/operation-context.js';
import { authorize, type Requirement } from '../modules/roles/roles.policy.js';
import { SESSION_COOKIE } from './session-cookie.js';

/** Routes added by plugins we do not write (API docs UI, console assets) are public by nature. */
const PUBLIC_PREFIXES = ['/api/docs'];
const PUBLIC: Requirement = { kind: 'public' };

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * SPEC §4: a state-changing request from another site is refused. Browsers say so with Sec-Fetch-Site, or at
 * least with an Origin that differs from the Host; clients without either (curl, services, brokers) are not
 * browsers and are unaffected.
 */
export function isCrossSite(request: FastifyRequest): boolean {
  if (!STATE_CHANGING.has(request.method)) return false;
  const fetchSite = request.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string') return fetchSite !== 'same-origin' && fetchSite !== 'none';
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

export function operationContext(request: FastifyRequest): OperationContext {
  if (!request.actor) throw coreError('auth.required');
  return { actor: request.actor, ip: request.ip, requestId: request.id };
}

/**
 * The one place that decides access. Registration fails for a route that declares no requirement; every request
 * is authenticated from its cookie, checked for cross-site origin, then authorized against the route's declared
 * requirement by the pure policy — before the body is even parsed.
 */
export function installAccessGuard(app: FastifyInstance): void {
  app.decorateRequest('actor', null);
  app.decorateRequest('stage', null);
  app.decorateRequest('auth', null);

  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: Requirement };
    if (config.access) return;
    if (PUBLIC_PREFIXES.some((prefix) => route.url.startsWith(prefix)) || !route.url.startsWith('/api/')) {
      route.config = { ...config, access: PUBLIC } as typeof route.config;
      return;
    }
    throw new Error(`route ${route.method} ${route.url} declares no access requirement (config.access)`);
  });

  app.addHook('onRequest', async (request) => {
    if (isCrossSite(request)) throw coreError('auth.cross_site');
    const token = request.cookies[SESSION_COOKIE];
    if (token) {
      const resolved = await app.services.sessions.resolve(token);
      if (resolved) {
        request.auth = resolved;
        request.actor = resolved.actor;
        request.stage = resolved.stage;
      }
    }
    // Unknown routes have no config; they fall through to the 404 handler.
    const requirement = (request.routeOptions.config as { access?: Requirement } | undefined)?.access;
    if (!requirement) return;
    const decision = authorize(request.actor, request.stage, requirement);
    if (!decision.allowed) {
      throw coreError(
        decision.code,
        decision.code === 'auth.required' ? 'Sign in first' : 'You are not permitted to do this',
      );
    }
  });
}
