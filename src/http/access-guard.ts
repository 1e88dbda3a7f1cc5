import type { FastifyInstance, FastifyRequest } from 'fastify';
import { coreError } from '../core/errors/core-errors.js';
import { AddressList } from '../core/net/address-list.js';
import { apiKeyError } from '../modules/api-keys/api-keys.errors.js';
import { hookThrottled } from '../modules/brokers/brokers.errors.js';
import { forwardAuthThrottled } from '../modules/forward-auth/forward-auth.errors.js';
import type { OperationContext } from '../modules/permissions/operation-context.js';
import {
  authorize,
  authorizeSelf,
  type Decision,
  type Requirement,
} from '../modules/permissions/permissions.policy.js';
import { refusal } from '../modules/permissions/refusal.js';
import { registryThrottled } from '../modules/registry/registry.errors.js';
import { isDeviceRegistration } from '../modules/registry/registry-admission.js';
import { apiAllowList, isManagementApi } from './api-allow-list.js';
import { SESSION_COOKIE } from './session-cookie.js';

/** Routes added by plugins we do not write (API docs UI, console assets) are public by nature. */
const PUBLIC_PREFIXES = ['/api/docs'];
const PUBLIC: Requirement = { kind: 'public' };

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A state-changing request from another site is refused (docs/authentication.md). Browsers say so with Sec-Fetch-Site, or at
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
/** One registered route and what it declared (listed by `app.routeAccess`, e.g. for the route-walk test). */
export interface RouteAccess {
  readonly method: string;
  readonly url: string;
  readonly access: Requirement;
}

type Refused = Extract<Decision, { allowed: false }>;

/** What the guard needs besides the services: the configuration of the machine routes. */
export interface AccessGuardOptions {
  /** `WARDEN_METRICS_ALLOW_FROM`: networks that may scrape `/metrics` without a token. */
  readonly metricsAllowFrom?: readonly string[];
}

/** The bearer credential of a request, or undefined. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return undefined;
  return header.slice('bearer '.length).trim();
}

export function installAccessGuard(app: FastifyInstance, options: AccessGuardOptions = {}): void {
  const apiAllows = apiAllowList(() => app.services.settings.cachedSecurity());
  const scrapeNetworks = new AddressList(options.metricsAllowFrom ?? []);
  app.decorateRequest('actor', null);
  app.decorateRequest('stage', null);
  app.decorateRequest('auth', null);
  app.decorateRequest('hookIntegration', null);
  app.decorateRequest('forwardedIdentity', null);
  /** A refusal that stands unless the parsed body shows the request is about the actor itself. */
  const pendingSelf = new WeakMap<FastifyRequest, { decision: Refused; field: string }>();

  /**
   * Refuses with the decision's code and machine-readable `denial`. A refused write by a signed-in actor is
   * audited (`access.denied`, with the route and what was missing), so attempts show in the log.
   */
  async function refuse(request: FastifyRequest, decision: Refused): Promise<never> {
    if (request.actor && STATE_CHANGING.has(request.method)) {
      const ctx = operationContext(request);
      await app.services.infra.db.transaction().execute((trx) =>
        app.services.audit.record(trx, ctx, {
          action: 'access.denied',
          target: `route:${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
          outcome: 'failure',
          details: { error: decision.code, denial: decision.denial },
        }),
      );
    }
    throw refusal(decision);
  }

  const declared: RouteAccess[] = [];
  app.decorate('routeAccess', declared);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: Requirement };
    let access = config.access;
    if (!access) {
      if (!PUBLIC_PREFIXES.some((prefix) => route.url.startsWith(prefix)) && route.url.startsWith('/api/')) {
        throw new Error(`route ${route.method} ${route.url} declares no access requirement (config.access)`);
      }
      access = PUBLIC;
      route.config = { ...config, access } as typeof route.config;
    }
    for (const method of [route.method].flat()) declared.push({ method, url: route.url, access });
  });

  app.addHook('onRequest', async (request) => {
    // Unknown routes have no config; they fall through to the 404 handler.
    let requirement = (request.routeOptions.config as { access?: Requirement } | undefined)?.access;
    // Before anything else: an address outside `apiAllowFrom` learns nothing of the management API.
    if (isManagementApi(request, requirement) && !apiAllows(request.ip))
      throw coreError('request.ip_not_allowed', `The management API does not answer ${request.ip}`);
    // A device registering itself or polling: admitted by the registry's per-address rate limit alone (its token or
    // poll secret is the route's to check); an administrator's request to such a route meets its `staff` requirement.
    if (requirement?.kind === 'registration') {
      if (isDeviceRegistration(request, requirement)) {
        const wait = app.services.registry.admit(request.ip, request.method === 'POST' ? 'request' : 'poll');
        if (wait > 0) throw registryThrottled(wait);
        return;
      }
      requirement = requirement.staff;
    }
    const sessionToken = request.cookies[SESSION_COOKIE];
    // Only the management API takes API keys here (scrapes, broker hooks and forward-auth read their own
    // credentials, public routes none).
    const apiKey =
      requirement &&
      requirement.kind !== 'hook' &&
      requirement.kind !== 'scrape' &&
      requirement.kind !== 'forwarded' &&
      requirement.kind !== 'public'
        ? bearer(request)
        : undefined;
    // Cross-site forgery rides on the cookie a browser adds by itself; a request that brings its own key has none.
    if (apiKey === undefined && isCrossSite(request)) throw coreError('auth.cross_site');
    // Scrapes never use sessions: an allowed source address or a live scrape token (read from the database,
    // so a deleted one stops at once on every instance); every other request gets the same 401.
    if (requirement?.kind === 'scrape') {
      const token = bearer(request);
      const admitted =
        scrapeNetworks.contains(request.ip) ||
        (token !== undefined && (await app.services.scrapeTokens.authenticate(token)));
      const decision = authorize(null, null, requirement, admitted);
      if (!decision.allowed) throw refusal(decision);
      return;
    }
    // Broker hooks never use sessions: admitted by their integration's credential or source address, or refused
    // before the body is read and before any decision is asked for.
    if (requirement?.kind === 'hook') {
      const admission = app.services.brokers.hooks.admit(requirement.broker, request);
      if (admission.kind === 'throttled') throw hookThrottled(admission.retryAfterMs);
      const decision = authorize(null, null, requirement, admission.kind === 'admitted');
      if (!decision.allowed) throw refusal(decision);
      if (admission.kind === 'admitted') request.hookIntegration = admission.integration;
      return;
    }
    // Forward-auth: admitted by the identity of the forwarded request (session, Basic or Bearer), which the route
    // then decides on with the user's HTTP rules; the management policy has no say.
    if (requirement?.kind === 'forwarded') {
      const resolution = await app.services.forwardAuth.identify({
        sessionToken,
        authorization: request.headers.authorization,
        ip: request.ip,
      });
      if (resolution.kind === 'throttled') throw forwardAuthThrottled(resolution.retryAfter);
      const decision = authorize(null, null, requirement, resolution.kind === 'identified');
      if (!decision.allowed) throw refusal(decision);
      if (resolution.kind === 'identified') request.forwardedIdentity = resolution.identity;
      return;
    }
    // A request is one actor: a cookie and a key together could be two (a key pasted into a signed-in browser).
    if (apiKey !== undefined && sessionToken) throw apiKeyError('auth.ambiguous_credentials');
    if (apiKey !== undefined) {
      // API keys act with the key's rights reduced by its owner's, as a complete login (docs/api-keys.md).
      request.actor = await app.services.apiKeys.authenticate(apiKey, request.ip);
      request.stage = 'active';
    } else if (sessionToken) {
      const resolved = await app.services.sessions.resolve(sessionToken);
      if (resolved) {
        request.auth = resolved;
        request.actor = resolved.actor;
        request.stage = resolved.stage;
      }
    }
    if (!requirement) return;
    const decision = authorize(request.actor, request.stage, requirement);
    if (decision.allowed) return;
    // A question a user may always ask about itself is decided once the body names whom it is about.
    if (requirement.kind === 'read' && requirement.unlessSelf && decision.denial.reason === 'scope') {
      pendingSelf.set(request, { decision, field: requirement.unlessSelf });
      return;
    }
    await refuse(request, decision);
  });

  app.addHook('preHandler', async (request) => {
    const pending = pendingSelf.get(request);
    if (!pending || !request.actor) return;
    const subject = (request.body as Record<string, unknown> | undefined)?.[pending.field];
    const decision = authorizeSelf(
      request.actor,
      typeof subject === 'string' ? subject : undefined,
      pending.decision,
    );
    if (!decision.allowed) await refuse(request, decision);
  });
}
