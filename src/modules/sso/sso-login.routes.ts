import type { FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors/app-error.js';
import type { App } from '../../http/fastify-types.js';
import { setSessionCookie } from '../../http/session-cookie.js';
import {
  CallbackQuery,
  ProviderParams,
  Redirect,
  SignInProvidersSchema,
  StartQuery,
} from './sso-login.schemas.js';
import { SignInFailed } from './sso-login.service.js';
import { SIGN_IN_STATE_COOKIE, SIGN_IN_STATE_TTL_MS } from './sso-login.state.js';

const tags = ['auth'];
const PUBLIC = { access: { kind: 'public' } } as const;

/** The console's sign-in page, which explains `ssoError` and offers to try again. */
const SIGN_IN_PAGE = '/login';

function callbackPath(name: string): string {
  return `/api/v1/auth/sso/${encodeURIComponent(name)}/callback`;
}

/** This Warden's origin as the browser sees it (behind a proxy: with WARDEN_TRUST_PROXY, its forwarded values). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * The sign-in in progress travels in a cookie sent only to its callback: HttpOnly; SameSite=Lax, because the
 * provider sends the browser back with a top-level navigation from its own site (Strict would leave it behind);
 * Secure over TLS; gone after 10 minutes.
 */
function stateCookieOptions(request: FastifyRequest, name: string) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: request.protocol === 'https',
    path: callbackPath(name),
  };
}

/** A browser navigating (a click on "Sign in with …"), as opposed to a script calling the API. */
function isNavigation(request: FastifyRequest): boolean {
  const mode = request.headers['sec-fetch-mode'];
  if (typeof mode === 'string') return mode === 'navigate';
  return request.headers.accept?.includes('text/html') === true;
}

/** Back to the sign-in page, which says what went wrong; with the place to return to after a retry. */
function failedTo(code: string, returnTo: string | null): string {
  const back = returnTo && returnTo !== '/' ? `&returnTo=${encodeURIComponent(returnTo)}` : '';
  return `${SIGN_IN_PAGE}?ssoError=${encodeURIComponent(code)}${back}`;
}

function rawQuery(request: FastifyRequest): string {
  const mark = request.url.indexOf('?');
  return mark === -1 ? '' : request.url.slice(mark + 1);
}

/**
 * Single sign-on (docs/sso.md#signing-in). All three routes are public: the list feeds the sign-in page, start
 * and callback are browser navigations (the callback a cross-site one, from the provider: a GET that changes
 * nothing a cookie could have asked for, so the cross-site check of state-changing requests does not apply).
 */
export async function ssoLoginRoutes(app: App): Promise<void> {
  const { ssoLogin } = app.services;

  app.get(
    '/api/v1/auth/sso/providers',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'The enabled SSO providers, for the sign-in page',
        response: { 200: SignInProvidersSchema },
      },
    },
    () => ssoLogin.listProviders(),
  );

  app.get(
    '/api/v1/auth/sso/:name/start',
    {
      config: PUBLIC,
      // A browser navigates with GET; a HEAD would start (or spend) a sign-in for nothing.
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: 'Start signing in with an SSO provider (a browser navigation: redirects to the provider)',
        description:
          'Redirects (302) to the provider with PKCE (S256), state and nonce, and sets the short-lived sign-in ' +
          'cookie. A failure sends a browser to `/login?ssoError=<code>`; a client that is not a browser ' +
          'navigation gets the problem (404 sso.provider_not_enabled, 503 sso.provider_unavailable).',
        params: ProviderParams,
        querystring: StartQuery,
        response: { 302: Redirect },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      try {
        const started = await ssoLogin.start(name, {
          redirectUri: `${originOf(request)}${callbackPath(name)}`,
          returnTo: request.query.returnTo,
        });
        reply.setCookie(SIGN_IN_STATE_COOKIE, started.sealedState, {
          ...stateCookieOptions(request, name),
          maxAge: SIGN_IN_STATE_TTL_MS / 1000,
        });
        return reply.redirect(started.authorizationUrl, 302);
      } catch (error) {
        if (!(error instanceof AppError) || !isNavigation(request)) throw error;
        return reply.redirect(failedTo(error.code, null), 302);
      }
    },
  );

  app.get(
    '/api/v1/auth/sso/:name/callback',
    {
      config: PUBLIC,
      // A browser navigates with GET; a HEAD would start (or spend) a sign-in for nothing.
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: 'Where the SSO provider sends the browser back (redirects into the console)',
        description:
          'Finishes the sign-in started by the start route: on success a new session cookie and a redirect to ' +
          'the `returnTo` of the start; on failure a redirect to `/login?ssoError=<code>`. Never answers a problem.',
        params: ProviderParams,
        querystring: CallbackQuery,
        response: { 302: Redirect },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      // Single use: whatever the outcome, the sign-in in progress is over.
      reply.clearCookie(SIGN_IN_STATE_COOKIE, stateCookieOptions(request, name));
      try {
        const finished = await ssoLogin.finish(
          name,
          {
            query: rawQuery(request),
            sealedState: request.cookies[SIGN_IN_STATE_COOKIE],
            meta: { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' },
            requestId: request.id,
          },
          request.log,
        );
        setSessionCookie(request, reply, finished.token);
        return reply.redirect(finished.returnTo, 302);
      } catch (error) {
        if (error instanceof SignInFailed) return reply.redirect(failedTo(error.code, error.returnTo), 302);
        // The browser is mid-navigation: a problem document would be a page of JSON. The cause goes to the log.
        request.log.error({ err: error }, 'SSO sign-in failed unexpectedly');
        return reply.redirect(failedTo('sso.login_failed', null), 302);
      }
    },
  );
}
