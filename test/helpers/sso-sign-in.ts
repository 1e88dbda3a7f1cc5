import type { LightMyRequestResponse } from 'fastify';
import type { TestOidcProvider } from './oidc-provider.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from './sso.js';
import type { TestContext } from './test-app.js';

/** The host the API tests' Warden answers as: the provider's client registers its callback there. */
export const SIGN_IN_HOST = 'warden.test';

/** The test OpenID Provider's client for a Warden at `origin`, with the callback of `providers` registered. */
export function testClient(origin: string, providers: readonly string[] = ['test-op']) {
  return {
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    redirectUris: providers.map((name) => `${origin}/api/v1/auth/sso/${name}/callback`),
    postLogoutRedirectUris: [`${origin}/login`],
  };
}

/** A sign-in started with `GET …/start`: the provider's URL and the sign-in cookie (`warden_sso=…`). */
export interface StartedSignIn {
  readonly start: LightMyRequestResponse;
  readonly authorizationUrl: string;
  readonly stateCookie: string;
}

export async function startSignIn(
  t: TestContext,
  options: { provider?: string; returnTo?: string; headers?: Record<string, string> } = {},
): Promise<StartedSignIn> {
  const provider = options.provider ?? 'test-op';
  const query = options.returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(options.returnTo)}`;
  const start = await t.app.inject({
    method: 'GET',
    url: `/api/v1/auth/sso/${provider}/start${query}`,
    headers: { host: SIGN_IN_HOST, ...options.headers },
  });
  if (start.statusCode !== 302) throw new Error(`start failed: ${start.statusCode} ${start.body}`);
  const cookie = start.cookies.find((c) => c.name === 'warden_sso');
  if (!cookie) throw new Error('no sign-in cookie');
  return {
    start,
    authorizationUrl: String(start.headers.location),
    stateCookie: `${cookie.name}=${cookie.value}`,
  };
}

/** Calls the callback as the browser would after the provider sent it back to `back`, with `cookie`. */
export function callback(t: TestContext, back: URL, cookie: string | null): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'GET',
    url: `${back.pathname}${back.search}`,
    headers: { host: SIGN_IN_HOST, ...(cookie ? { cookie } : {}) },
  });
}

/** What a finished callback did: where it sent the browser, and the session cookie when it signed in. */
export interface SignInOutcome {
  readonly response: LightMyRequestResponse;
  readonly location: string;
  /** `warden_session=…`, or null when the sign-in failed. */
  readonly session: string | null;
  /** `ssoError` of a failure redirect, or null. */
  readonly error: string | null;
  /** The provider's redirect back to Warden (to replay it). */
  readonly back: URL;
  readonly stateCookie: string;
}

/** A whole sign-in: start, the provider's own login as `account`, the callback. */
export async function ssoSignIn(
  t: TestContext,
  op: TestOidcProvider,
  account: string,
  options: { provider?: string; returnTo?: string } = {},
): Promise<SignInOutcome> {
  const started = await startSignIn(t, options);
  const back = await op.signIn(started.authorizationUrl, account);
  const response = await callback(t, back, started.stateCookie);
  return outcomeOf(response, back, started.stateCookie);
}

export function outcomeOf(response: LightMyRequestResponse, back: URL, stateCookie: string): SignInOutcome {
  if (response.statusCode !== 302) {
    throw new Error(`callback answered ${response.statusCode}: ${response.body}`);
  }
  const location = String(response.headers.location);
  const session = response.cookies.find((c) => c.name === 'warden_session' && c.value !== '');
  const error = new URL(location, `http://${SIGN_IN_HOST}`).searchParams.get('ssoError');
  return {
    response,
    location,
    session: session ? `${session.name}=${session.value}` : null,
    error,
    back,
    stateCookie,
  };
}
