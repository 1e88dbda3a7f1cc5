import type { Clock } from '../../core/clock.js';
import type { DomainEventBus } from '../../core/events.js';
import type { SubjectHttpDecision } from '../access/access.service.js';
import { type CompiledHttpRules, decideHttp, type HttpRequest } from '../access-engine/index.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { BasicCredentials } from './basic-credentials.js';
import { forwardAuthError } from './forward-auth.errors.js';
import { SessionCache } from './session-cache.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Forward-auth routes only: whom the access guard identified the forwarded request as. */
    forwardedIdentity: ForwardedIdentity | null;
  }
}

/** Who a forwarded request comes from, and how that was established. */
export interface ForwardedIdentity {
  readonly username: string;
  readonly via: 'session' | 'basic' | 'bearer';
}

/**
 * What the credentials of a forwarded request resolved to: an identity; nothing usable (`anonymous`: none
 * presented, or invalid, or a login Basic cannot complete); or too many failed attempts (`throttled`).
 */
export type IdentityResolution =
  | { readonly kind: 'identified'; readonly identity: ForwardedIdentity }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'throttled'; readonly retryAfter: string };

/**
 * Resolves the token of `Authorization: Bearer <token>` (an API key, docs/api-keys.md) presented from `ip` to
 * its owner's username, or says why not; failed keys count against the address's budget, as on the API.
 */
export type BearerResolver = (
  token: string,
  ip: string,
) => Promise<
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfter: string }
>;

/** The credentials a request carries, as the guard reads them. */
export interface PresentedCredentials {
  /** The `warden_session` cookie. */
  readonly sessionToken: string | undefined;
  readonly authorization: string | undefined;
  readonly ip: string;
}

export type ForwardAuthService = ReturnType<typeof createForwardAuthService>;

const ANONYMOUS: IdentityResolution = Object.freeze({ kind: 'anonymous' });

/**
 * Forward-auth for reverse proxies (docs/forward-auth.md): who a forwarded request comes from (`identify`, asked
 * by the access guard for routes declaring `{kind: 'forwarded'}`), and whether the user's HTTP rules allow the
 * original request (`decide`). An `Authorization` header is the credential when present — Basic (a Warden
 * user's password) or Bearer (an API key) — otherwise the console's session cookie, which must be a complete
 * login. The session, Basic and rule caches follow the change feed, so ended sessions, deactivation, deletion
 * and rule changes apply to the next request.
 */
export function createForwardAuthService(deps: {
  clock: Clock;
  sessions: Pick<SessionsService, 'resolve'>;
  basic: BasicCredentials;
  access: {
    peek(
      username: string,
    ): { readonly username: string; readonly http: CompiledHttpRules } | null | undefined;
    decideHttp(username: string, request: HttpRequest): Promise<SubjectHttpDecision>;
  };
  /** Whether this process's caches can be trusted (the change feed is followed). */
  trustworthy: () => boolean;
  bearer: BearerResolver;
}) {
  const sessions = new SessionCache({ clock: deps.clock, ttlMs: 1_000, maxEntries: 10_000 });

  async function fromSession(token: string): Promise<IdentityResolution> {
    const key = sessions.keyFor(token);
    const cached = sessions.get(key);
    if (cached) return identified(cached.username, 'session');
    const epoch = sessions.epoch();
    const session = await deps.sessions.resolve(token);
    if (session?.stage !== 'active') return ANONYMOUS;
    sessions.set(
      key,
      { userId: session.user.id, username: session.user.username, expiresAt: session.session.expires_at },
      epoch,
    );
    return identified(session.user.username, 'session');
  }

  function identified(username: string, via: ForwardedIdentity['via']): IdentityResolution {
    return { kind: 'identified', identity: { username, via } };
  }

  async function fromAuthorization(header: string, ip: string): Promise<IdentityResolution> {
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    const credentials = space === -1 ? '' : header.slice(space + 1).trim();
    if (credentials === '') return ANONYMOUS;
    if (scheme === 'basic') {
      const outcome = await deps.basic.resolve(credentials, ip);
      if (outcome.ok) return identified(outcome.username, 'basic');
      return outcome.reason === 'throttled'
        ? { kind: 'throttled', retryAfter: outcome.retryAfter }
        : ANONYMOUS;
    }
    if (scheme === 'bearer') {
      const outcome = await deps.bearer(credentials, ip);
      if (outcome.ok) return identified(outcome.username, 'bearer');
      return outcome.reason === 'throttled'
        ? { kind: 'throttled', retryAfter: outcome.retryAfter }
        : ANONYMOUS;
    }
    return ANONYMOUS;
  }

  return {
    /**
     * The identity of a forwarded request. An `Authorization` header takes precedence over the cookie (it is
     * what a script means to use) and is never combined with it: invalid credentials are anonymous even when a
     * session cookie comes along. A session held at a login step (MFA, password change, enrolment) is no
     * identity. Refuses with 503 when the caches may be stale.
     */
    async identify(presented: PresentedCredentials): Promise<IdentityResolution> {
      if (!deps.trustworthy()) {
        throw forwardAuthError('forward_auth.unavailable', 'Not in touch with the change feed', {
          headers: { 'retry-after': '1' },
        });
      }
      if (presented.authorization !== undefined)
        return fromAuthorization(presented.authorization, presented.ip);
      return presented.sessionToken ? fromSession(presented.sessionToken) : ANONYMOUS;
    },

    /**
     * The user's HTTP rules on the original request (first match wins, no match denies): synchronously from the
     * access cache when the user's rules are loaded (the hot path of every proxied request), else read first.
     */
    decide(
      identity: ForwardedIdentity,
      request: HttpRequest,
    ): SubjectHttpDecision | Promise<SubjectHttpDecision> {
      const subject = deps.access.peek(identity.username);
      if (subject) return decideHttp(subject.http, { username: subject.username }, request);
      return deps.access.decideHttp(identity.username, request);
    },

    /** Follows changes for the session and Basic credential caches; returns the stop function. */
    start(events: DomainEventBus): () => void {
      const stopSessions = sessions.start(events);
      const stopBasic = deps.basic.start(events);
      return () => {
        stopBasic();
        stopSessions();
      };
    },
  };
}
