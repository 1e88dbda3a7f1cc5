import type { Kysely } from 'kysely';
import * as oidc from 'openid-client';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import { AppError } from '../../core/errors/app-error.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import type { ClientMeta, SessionsService } from '../sessions/sessions.service.js';
import type { SessionRow } from '../sessions/sessions.table.js';
import type { SettingsService } from '../settings/settings.service.js';
import { userTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { UsersService } from '../users/users.service.js';
import type { OidcDiscovery } from './oidc-discovery.js';
import { type SsoLoginErrorCode, ssoLoginError } from './sso-login.errors.js';
import { safeReturnTo } from './sso-login.return-to.js';
import {
  openSignInState,
  SIGN_IN_STATE_TTL_MS,
  type SignInState,
  sealSignInState,
} from './sso-login.state.js';
import type { SsoProviderConfig } from './sso-provider-config.js';
import type { SsoProviderDirectory } from './sso-provider-directory.js';
import { groupsOf } from './sso-role-mapping.js';
import { resolveSsoUser, SignInRefused, type SsoIdentity } from './sso-users.js';

/** A provider as the sign-in page lists it. */
export interface SignInProvider {
  readonly name: string;
  readonly displayName: string;
}

/** A started sign-in: where to send the browser, and the sealed state for the sign-in cookie. */
export interface StartedSignIn {
  readonly authorizationUrl: string;
  readonly sealedState: string;
}

/** A finished sign-in: the new session's token and where the browser goes now. */
export interface FinishedSignIn {
  readonly token: string;
  readonly returnTo: string;
}

/**
 * A sign-in that did not sign anyone in, already audited: the code the console explains, and where the browser
 * should go back to once the user tries again (the sign-in's `returnTo`, when it could be read).
 */
export class SignInFailed extends Error {
  constructor(
    readonly code: SsoLoginErrorCode | 'session.limit_reached',
    readonly returnTo: string | null,
  ) {
    super(code);
    this.name = 'SignInFailed';
  }
}

/** Where a refused or failed exchange with the provider is logged (the request's logger). */
export interface SignInLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/** The callback's request, as far as the sign-in needs it. */
export interface Callback {
  /** The raw query string of the callback (without `?`): `code`, `state`, `iss` or `error`. */
  readonly query: string;
  readonly sealedState: string | undefined;
  readonly meta: ClientMeta;
  readonly requestId: string;
}

export interface SsoLoginServiceDeps {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  readonly clock: Clock;
  readonly secretBox: SecretBox;
  readonly audit: AuditService;
  readonly settings: SettingsService;
  readonly sessions: Pick<SessionsService, 'start' | 'countLiveNonAdmin'>;
  readonly users: Pick<UsersService, 'provisionSso' | 'linkSsoSubject' | 'applySsoRole' | 'recordLogin'>;
  readonly userReader: Pick<UserReader, 'findRow' | 'findRowsByEmail' | 'findRowBySsoSubject'>;
  readonly ssoProviders: SsoProviderDirectory;
  readonly changes: Pick<ChangeFeed, 'settled'>;
  /** Providers' discovered metadata, cached (shared with MQTT tokens). */
  readonly discovery: OidcDiscovery;
}

export type SsoLoginService = ReturnType<typeof createSsoLoginService>;

/** The sealed-box context of a session's ID token: bound to its user, so a value copied elsewhere does not open. */
function idTokenContext(userId: string): string {
  return `sso-id-token:${userId}`;
}

/**
 * Whether an openid-client failure means the provider could not be reached or failed itself (network error,
 * timeout, a 5xx or a body that is not what a provider answers) rather than refusing this sign-in.
 */
function isUnreachable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  if (error instanceof oidc.ResponseBodyError) return error.status >= 500;
  if (error instanceof oidc.ClientError) {
    return [
      'OAUTH_TIMEOUT',
      'OAUTH_ABORT',
      'OAUTH_RESPONSE_IS_NOT_CONFORM',
      'OAUTH_RESPONSE_IS_NOT_JSON',
    ].includes(error.code ?? '');
  }
  return false;
}

const TRUE_CLAIM = new Set<unknown>([true, 'true']);

/**
 * Whether the provider vouches for the email it asserts: `email_verified` (a string in some providers, e.g. AWS
 * Cognito). Microsoft Entra ID sends no `email_verified` — its `email` is an attribute a tenant can set to anything
 * — but, as its optional claim `xms_edov`, whether the address's domain is verified by the user's tenant: for the
 * `entra` preset that counts as verified (docs/sso.md#which-user-signs-in).
 */
function emailVerified(provider: SsoProviderConfig, claims: Record<string, unknown>): boolean {
  if (TRUE_CLAIM.has(claims.email_verified)) return true;
  return provider.preset === 'entra' && TRUE_CLAIM.has(claims.xms_edov);
}

/** What the audit log records of a protocol failure: the provider's error or openid-client's code, no secrets. */
function protocolReason(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return `token_error:${error.error}`;
  if (error instanceof oidc.WWWAuthenticateChallengeError) return 'userinfo_refused';
  if (error instanceof oidc.ClientError) return `invalid_response:${error.code ?? 'unknown'}`;
  return 'invalid_response';
}

/**
 * Single sign-on with OpenID Connect (docs/sso.md#signing-in): authorization code flow with PKCE (S256), state
 * and nonce, every protocol step through openid-client. The sign-in in progress lives in a sealed cookie, so any
 * instance finishes what another started; the user is found, linked or provisioned and its role mapped in one
 * transaction that also starts the session — the same session a password login starts (cookie, timeouts,
 * concurrent-session cap), complete at once: the provider's own authentication counts, local MFA is not asked.
 * Every callback is audited as `auth.sso` with its outcome and reason.
 */
export function createSsoLoginService(deps: SsoLoginServiceDeps) {
  const { db, clock, audit, secretBox } = deps;
  const { discovery } = deps;

  async function enabledProvider(name: string): Promise<SsoProviderConfig> {
    const provider = await deps.ssoProviders.find(name);
    if (!provider?.enabled) {
      throw ssoLoginError('sso.provider_not_enabled', `No enabled SSO provider is called "${name}"`);
    }
    return provider;
  }

  /** The provider's openid-client configuration; 503 sso.provider_unavailable when it cannot be had. */
  async function configurationOf(provider: SsoProviderConfig): Promise<oidc.Configuration> {
    if (provider.secretUnreadable) {
      throw ssoLoginError(
        'sso.provider_unavailable',
        `The client secret of ${provider.name} does not open with this instance's key (WARDEN_SECRET_KEY changed?)`,
      );
    }
    try {
      return await discovery.configuration(provider);
    } catch {
      throw ssoLoginError('sso.provider_unavailable', `The provider ${provider.name} could not be reached`);
    }
  }

  async function auditAttempt(
    trx: Kysely<Database>,
    ctx: OperationContext,
    event: {
      provider: string;
      username: string | null;
      outcome: 'success' | 'failure';
      details: Record<string, unknown>;
    },
  ): Promise<void> {
    await audit.record(trx, ctx, {
      action: 'auth.sso',
      // Made by the account's user when there is one (as a password login), else by nobody known.
      actor: event.username
        ? { type: 'user', name: `user:${event.username}` }
        : { type: 'anonymous', name: 'anonymous' },
      target: event.username ? userTarget(event.username) : `sso:${event.provider}`,
      outcome: event.outcome,
      details: { provider: event.provider, ...event.details },
    });
  }

  /** The provider's verdict: tokens checked (state, PKCE, nonce, ID token), userinfo merged over the ID token. */
  async function exchange(
    config: oidc.Configuration,
    signIn: SignInState,
    query: string,
  ): Promise<{ claims: Record<string, unknown>; idToken: string | undefined }> {
    const currentUrl = new URL(signIn.redirectUri);
    currentUrl.search = query;
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: signIn.codeVerifier,
      expectedState: signIn.state,
      expectedNonce: signIn.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new SignInRefused('sso.login_failed', 'no_id_token');
    // Many providers (and the tests' one) put email and groups in userinfo only: fetched and merged, as clients do.
    const userinfo = config.serverMetadata().userinfo_endpoint
      ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)
      : {};
    return { claims: { ...idClaims, ...userinfo, sub: idClaims.sub }, idToken: tokens.id_token };
  }

  function identityOf(provider: SsoProviderConfig, claims: Record<string, unknown>): SsoIdentity {
    const email = claims[provider.emailClaim];
    return {
      subject: String(claims.sub),
      email: typeof email === 'string' && email.length > 0 && email.length <= 254 ? email : null,
      emailVerified: emailVerified(provider, claims),
      preferredUsername: claims.preferred_username,
      groups: groupsOf(claims, provider.groupsClaim),
    };
  }

  /**
   * Finds the user, starts the session and audits the success, in one transaction; a refusal rolls everything
   * back (a user provisioned on the way included) and is thrown.
   */
  async function startSession(
    ctx: OperationContext,
    provider: SsoProviderConfig,
    identity: SsoIdentity,
    idToken: string | undefined,
    meta: ClientMeta,
  ): Promise<string> {
    const token = await db.transaction().execute(async (trx) => {
      // Serializes with every change to users (and other sign-ins), so a person signing in twice at once is
      // provisioned or linked once, and role changes keep the last-admin rule.
      await lockFor(trx, deps.engine, 'admin-set');
      const resolved = await resolveSsoUser(trx, deps, ctx, provider, identity);
      const { row } = resolved;
      const security = await deps.settings.getSecurity(trx);
      if (row.role !== 'admin' && security.maxConcurrentSessions > 0) {
        await lockFor(trx, deps.engine, 'throttle');
        const live = await deps.sessions.countLiveNonAdmin(trx);
        if (live >= security.maxConcurrentSessions) {
          throw new SignInRefused('session.limit_reached', 'session_limit', row.username);
        }
      }
      const started = await deps.sessions.start(trx, row, 'active', meta, {
        ssoProvider: provider.name,
        idTokenSealed: idToken ? secretBox.seal(Buffer.from(idToken, 'utf8'), idTokenContext(row.id)) : null,
      });
      await deps.users.recordLogin(trx, row.id, clock.now());
      await auditAttempt(trx, ctx, {
        provider: provider.name,
        username: row.username,
        outcome: 'success',
        details: {
          session: started.session.id,
          subject: identity.subject,
          ...(resolved.provisioned ? { provisioned: true } : {}),
          ...(resolved.linked ? { linked: true } : {}),
          ...(resolved.roleMapping ? { roleMapping: resolved.roleMapping } : {}),
        },
      });
      return started.token;
    });
    await deps.changes.settled();
    return token;
  }

  return {
    /** The enabled providers, for the sign-in page's buttons (names and display names only). */
    async listProviders(): Promise<SignInProvider[]> {
      const providers = await deps.ssoProviders.listEnabled();
      return providers.map((provider) => ({ name: provider.name, displayName: provider.displayName }));
    },

    /**
     * Starts a sign-in at the provider `name`: a fresh state, nonce and PKCE verifier, sealed for the callback at
     * `redirectUri`. Throws 404 sso.provider_not_enabled or 503 sso.provider_unavailable.
     */
    async start(
      name: string,
      options: { redirectUri: string; returnTo: string | undefined },
    ): Promise<StartedSignIn> {
      const provider = await enabledProvider(name);
      const config = await configurationOf(provider);
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const signIn: SignInState = {
        provider: provider.name,
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier,
        redirectUri: options.redirectUri,
        returnTo: safeReturnTo(options.returnTo),
        expiresAt: clock.now() + SIGN_IN_STATE_TTL_MS,
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: signIn.redirectUri,
        scope: provider.scopes.join(' '),
        state: signIn.state,
        nonce: signIn.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      return { authorizationUrl: url.href, sealedState: sealSignInState(secretBox, signIn) };
    },

    /**
     * Finishes a sign-in at its callback: the token of the new session and where to go, or {@link SignInFailed}
     * (audited) with the code to show. Unexpected failures (the database) are rethrown.
     */
    async finish(name: string, callback: Callback, logger?: SignInLog): Promise<FinishedSignIn> {
      const ctx: OperationContext = {
        actor: { type: 'system' },
        ip: callback.meta.ip,
        requestId: callback.requestId,
      };
      const signIn = openSignInState(secretBox, callback.sealedState, name, clock.now());
      const failed = async (
        code: SignInFailed['code'],
        reason: string,
        extra: { username?: string | null; details?: Record<string, unknown> } = {},
      ): Promise<never> => {
        await db.transaction().execute((trx) =>
          auditAttempt(trx, ctx, {
            provider: name,
            username: extra.username ?? null,
            outcome: 'failure',
            details: { reason, error: code, ...extra.details },
          }),
        );
        throw new SignInFailed(code, signIn?.returnTo ?? null);
      };
      const params = new URLSearchParams(callback.query);
      if (!signIn) return failed('sso.state_invalid', callback.sealedState ? 'state_unreadable' : 'no_state');
      // openid-client compares the state again; this only tells a forged or crossed answer apart for the log.
      if (params.get('state') !== signIn.state) return failed('sso.state_invalid', 'state_mismatch');

      let provider: SsoProviderConfig;
      let config: oidc.Configuration;
      try {
        provider = await enabledProvider(name);
        config = await configurationOf(provider);
      } catch (error) {
        if (
          error instanceof AppError &&
          (error.code === 'sso.provider_not_enabled' || error.code === 'sso.provider_unavailable')
        ) {
          return failed(
            error.code,
            error.code === 'sso.provider_not_enabled' ? 'provider_disabled' : 'unreachable',
          );
        }
        throw error;
      }

      let verdict: { claims: Record<string, unknown>; idToken: string | undefined };
      try {
        verdict = await exchange(config, signIn, callback.query);
      } catch (error) {
        if (error instanceof SignInRefused) return failed(error.code, error.reason);
        if (error instanceof oidc.AuthorizationResponseError) {
          return failed('sso.provider_denied', 'provider_error', { details: { providerError: error.error } });
        }
        if (isUnreachable(error)) {
          logger?.warn({ err: error, provider: name }, 'SSO provider unreachable during sign-in');
          return failed('sso.provider_unavailable', 'unreachable');
        }
        logger?.info({ err: error, provider: name }, 'SSO sign-in answer refused');
        return failed('sso.login_failed', protocolReason(error));
      }

      const identity = identityOf(provider, verdict.claims);
      try {
        const token = await startSession(ctx, provider, identity, verdict.idToken, callback.meta);
        return { token, returnTo: signIn.returnTo };
      } catch (error) {
        if (!(error instanceof SignInRefused)) throw error;
        return failed(error.code, error.reason, {
          username: error.username,
          details: {
            subject: identity.subject,
            ...(identity.email ? { email: identity.email } : {}),
          },
        });
      }
    },

    /**
     * Where the browser should go to sign out at the provider too (RP-initiated logout), for a session a sign-in
     * started: the provider's `end_session_endpoint` with the session's ID token as hint and the console's sign-in
     * page to come back to. Null for a password session, a provider that is gone, disabled, unreachable or
     * without an end-session endpoint: the local logout stands on its own.
     */
    async endSessionUrl(session: SessionRow, postLogoutRedirectUri: string): Promise<string | null> {
      if (!session.sso_provider) return null;
      const provider = await deps.ssoProviders.find(session.sso_provider);
      if (!provider?.enabled || provider.secretUnreadable) return null;
      let config: oidc.Configuration;
      try {
        config = await discovery.configuration(provider);
      } catch {
        return null;
      }
      if (!config.serverMetadata().end_session_endpoint) return null;
      const opened = session.sso_id_token_sealed
        ? secretBox.open(session.sso_id_token_sealed, idTokenContext(session.user_id))
        : null;
      return oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: postLogoutRedirectUri,
        ...(opened ? { id_token_hint: Buffer.from(opened).toString('utf8') } : {}),
      }).href;
    },
  };
}
