import { decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Clock } from '../../core/clock.js';
import type { SsoProviderConfig } from '../sso/sso-provider-config.js';
import type { SsoProviderDirectory } from '../sso/sso-provider-directory.js';
import { type ProviderKeys, ProviderUnavailable } from './provider-keys.js';
import { WARDEN_TOKEN_ISSUER, type WardenTokenKey } from './warden-token.js';

/** Clock skew allowed on `exp` and `nbf` (seconds): a connection is closed this long after its token's `exp`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Signature algorithms accepted from providers: asymmetric only, so a provider's public key can never be used as
 * an HMAC secret; no `none`. (`Ed25519` is the newer name of `EdDSA` with that curve.)
 */
export const PROVIDER_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;

/**
 * `typ` header values of the tokens accepted: none, a plain JWT (ID tokens) or an RFC 9068 access token. Other
 * typed JWTs a provider signs for the same client (logout tokens `logout+jwt`, …) are not MQTT credentials.
 */
const ACCEPTED_TYPES = new Set(['jwt', 'application/jwt', 'at+jwt', 'application/at+jwt']);

/** How long the list of enabled providers is reused: a CONNECT storm reads it once a second, not per CONNECT. */
const PROVIDER_LIST_TRUST_MS = 1_000;

/** Why a token was refused (the audit log's `reason`; the client only learns "bad credentials"). */
export type TokenFailure =
  | 'token_malformed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'unknown_issuer'
  | 'token_audience'
  | 'token_signature'
  | 'token_unknown_key'
  | 'token_algorithm'
  | 'token_type'
  | 'token_claims'
  | 'provider_unavailable';

/** Which kind of token a CONNECT presented (the audit log's `method`). */
export type TokenMethod = 'warden_token' | 'oidc_token';

export type VerifiedToken =
  | {
      readonly ok: true;
      readonly method: 'warden_token';
      readonly userId: string;
      readonly jti: string;
      /** `exp` (epoch seconds). */
      readonly exp: number;
    }
  | {
      readonly ok: true;
      readonly method: 'oidc_token';
      readonly provider: SsoProviderConfig;
      readonly subject: string;
      /** The address in the provider's email claim when the provider marks it verified, else null. */
      readonly verifiedEmail: string | null;
      readonly exp: number;
    }
  | {
      readonly ok: false;
      readonly method: TokenMethod;
      readonly reason: TokenFailure;
      /** The provider whose token it claimed to be, when one was found. */
      readonly provider?: string;
      /** Why the provider could not be asked (`provider_unavailable`), for the operations log. */
      readonly error?: unknown;
    };

/** A refusal for a jose error (or an unreachable provider); anything else is unexpected and thrown on. */
function failureOf(error: unknown): TokenFailure {
  if (error instanceof ProviderUnavailable) return 'provider_unavailable';
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'token_not_yet_valid';
    if (error.claim === 'iss') return 'unknown_issuer';
    if (error.claim === 'aud') return 'token_audience';
    return 'token_claims';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token_signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'token_unknown_key';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token_algorithm';
  if (error instanceof errors.JOSEError) return 'token_malformed';
  throw error;
}

/** Which kind a token claims to be, from its unverified `iss` (for refusals before verification). */
export function methodOf(token: string): TokenMethod {
  try {
    return decodeJwt(token).iss === WARDEN_TOKEN_ISSUER ? 'warden_token' : 'oidc_token';
  } catch {
    return 'oidc_token';
  }
}

function audiences(payload: JWTPayload): readonly string[] {
  const { aud } = payload;
  return typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
}

/** The enabled provider a token's unverified `iss` and `aud` name: issuer equal, client id among the audiences. */
function providerFor(
  providers: readonly SsoProviderConfig[],
  payload: JWTPayload,
): SsoProviderConfig | 'unknown_issuer' | 'token_audience' {
  const ofIssuer = providers.filter((provider) => provider.issuer === payload.iss);
  if (ofIssuer.length === 0) return 'unknown_issuer';
  const aud = audiences(payload);
  return ofIssuer.find((provider) => aud.includes(provider.clientId)) ?? 'token_audience';
}

function verifiedEmail(provider: SsoProviderConfig, payload: JWTPayload): string | null {
  const email = payload[provider.emailClaim];
  // Some providers (AWS Cognito) send the flag as a string.
  const verified = payload.email_verified === true || payload.email_verified === 'true';
  return verified && typeof email === 'string' && email !== '' ? email : null;
}

export interface TokenVerifierDeps {
  readonly clock: Clock;
  readonly wardenKey: WardenTokenKey;
  readonly providers: Pick<SsoProviderDirectory, 'listEnabled'>;
  readonly keys: ProviderKeys;
}

/**
 * Verifies the JWTs MQTT clients present as passwords (docs/mqtt-tokens.md#what-is-verified): Warden's own MQTT
 * tokens (HS256 with Warden's derived key, `iss` "warden", `aud` "warden-mqtt") and tokens of an enabled OpenID
 * provider — `iss` exactly the provider's issuer, the provider's client id among the audiences, signed with an
 * asymmetric algorithm by a key of the provider's key set. Both need `exp` and `sub`, honour `nbf`, and allow
 * {@link CLOCK_TOLERANCE_SECONDS} of clock skew. No I/O beyond the provider list and the provider's key set.
 */
export class TokenVerifier {
  readonly #deps: TokenVerifierDeps;
  #enabled: { readonly at: number; readonly list: Promise<SsoProviderConfig[]> } | null = null;

  constructor(deps: TokenVerifierDeps) {
    this.#deps = deps;
  }

  async verify(token: string): Promise<VerifiedToken> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      return { ok: false, method: 'oidc_token', reason: 'token_malformed' };
    }
    return claims.iss === WARDEN_TOKEN_ISSUER ? this.#verifyWarden(token) : this.#verifyOidc(token, claims);
  }

  /**
   * Whether a token verified earlier (and cached) still comes from a trusted source: Warden's own, or one whose
   * provider is still enabled with the same issuer and client id. A disabled or edited provider's tokens stop at
   * the next CONNECT, cached or not.
   */
  async stillTrusted(token: string): Promise<boolean> {
    const claims = decodeJwt(token);
    if (claims.iss === WARDEN_TOKEN_ISSUER) return true;
    return typeof providerFor(await this.#enabledProviders(), claims) === 'object';
  }

  async #verifyWarden(token: string): Promise<VerifiedToken> {
    const now = this.#deps.clock.now();
    try {
      const claims = await this.#deps.wardenKey.verify(token, now, CLOCK_TOLERANCE_SECONDS);
      return { ok: true, method: 'warden_token', userId: claims.sub, jti: claims.jti, exp: claims.exp };
    } catch (error) {
      return { ok: false, method: 'warden_token', reason: failureOf(error) };
    }
  }

  async #verifyOidc(token: string, claims: JWTPayload): Promise<VerifiedToken> {
    const provider = providerFor(await this.#enabledProviders(), claims);
    if (typeof provider === 'string') return { ok: false, method: 'oidc_token', reason: provider };
    const refused = (reason: TokenFailure, error?: unknown): VerifiedToken => ({
      ok: false,
      method: 'oidc_token',
      reason,
      provider: provider.name,
      ...(error === undefined ? {} : { error }),
    });
    try {
      const keys = await this.#deps.keys.keysFor(provider);
      const { payload, protectedHeader } = await jwtVerify(token, keys, {
        issuer: provider.issuer,
        audience: provider.clientId,
        algorithms: [...PROVIDER_ALGORITHMS],
        currentDate: new Date(this.#deps.clock.now()),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      const type = protectedHeader.typ?.toLowerCase();
      if (type !== undefined && !ACCEPTED_TYPES.has(type)) return refused('token_type');
      return {
        ok: true,
        method: 'oidc_token',
        provider,
        subject: payload.sub as string,
        verifiedEmail: verifiedEmail(provider, payload),
        exp: payload.exp as number,
      };
    } catch (error) {
      const reason = failureOf(error);
      return reason === 'provider_unavailable' ? refused(reason, error) : refused(reason);
    }
  }

  #enabledProviders(): Promise<SsoProviderConfig[]> {
    const now = this.#deps.clock.now();
    // A clock that went back (a corrected system time) does not make the list trusted for longer.
    const read = this.#enabled;
    if (read && now >= read.at && now < read.at + PROVIDER_LIST_TRUST_MS) return read.list;
    const list = this.#deps.providers.listEnabled();
    this.#enabled = { at: now, list };
    // A failed read is not kept: the next CONNECT reads again.
    list.catch(() => {
      if (this.#enabled?.list === list) this.#enabled = null;
    });
    return list;
  }
}
