import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import type { Clock } from '../../core/clock.js';
import { isLoopbackHost, type OidcDiscovery, PROVIDER_TIMEOUT_SECONDS } from '../sso/oidc-discovery.js';
import type { SsoProviderConfig } from '../sso/sso-provider-config.js';

/** Minimum time between two fetches of a provider's key set caused by tokens naming a key it does not know. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** How long a provider whose discovery or key set could not be fetched is not asked again. */
export const DEFAULT_RETRY_AFTER_FAILURE_MS = 10_000;

/** The provider's keys could not be had (discovery or key set unreachable, malformed, or not allowed). */
export class ProviderUnavailable extends Error {}

export interface ProviderKeysOptions {
  readonly clock: Clock;
  readonly discovery: Pick<OidcDiscovery, 'configuration'>;
  /** Overrides {@link DEFAULT_JWKS_COOLDOWN_MS} (tests). */
  readonly cooldownMs?: number;
  /** Overrides {@link DEFAULT_RETRY_AFTER_FAILURE_MS} (tests). */
  readonly retryAfterFailureMs?: number;
  /** The fetch the key sets are read with (tests count requests). */
  readonly fetch?: FetchImplementation;
}

/** jose errors that say something about the token's key, not about the provider's reachability. */
function isKeyMismatch(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JOSEAlgNotAllowed
  );
}

/**
 * The signing keys of each OpenID provider (docs/mqtt-tokens.md#what-is-verified), read from the `jwks_uri` its
 * discovery names, with jose's remote key set: cached (refreshed every 10 minutes), fetched again when a token
 * names an unknown `kid` — but at most once per cooldown, so a flood of tokens with made-up key ids cannot make
 * Warden hammer the provider. A provider that cannot be reached is not asked again for a few seconds either: its
 * tokens are refused as "unavailable" meanwhile. `http://` key sets are accepted on loopback hosts only, as
 * issuers are.
 */
export class ProviderKeys {
  readonly #options: ProviderKeysOptions;
  readonly #sets = new Map<string, { readonly uri: string; readonly keys: JWTVerifyGetKey }>();
  readonly #failedUntil = new Map<string, number>();

  constructor(options: ProviderKeysOptions) {
    this.#options = options;
  }

  /** The key resolver for `provider`'s tokens; rejects with {@link ProviderUnavailable}. */
  async keysFor(provider: SsoProviderConfig): Promise<JWTVerifyGetKey> {
    const now = this.#options.clock.now();
    if ((this.#failedUntil.get(provider.name) ?? 0) > now)
      throw new ProviderUnavailable(`provider ${provider.name} failed recently`);
    let uri: string;
    try {
      uri = jwksUriOf(await this.#options.discovery.configuration(provider));
    } catch (error) {
      throw this.#failed(provider.name, error);
    }
    const cached = this.#sets.get(provider.name);
    if (cached && cached.uri === uri) return cached.keys;
    const remote = createRemoteJWKSet(new URL(uri), {
      cooldownDuration: this.#options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
      timeoutDuration: PROVIDER_TIMEOUT_SECONDS * 1000,
      ...(this.#options.fetch ? { [customFetch]: this.#options.fetch } : {}),
    });
    const keys: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (isKeyMismatch(error)) throw error;
        throw this.#failed(provider.name, error);
      }
    };
    this.#sets.set(provider.name, { uri, keys });
    return keys;
  }

  #failed(name: string, cause: unknown): ProviderUnavailable {
    const retryMs = this.#options.retryAfterFailureMs ?? DEFAULT_RETRY_AFTER_FAILURE_MS;
    this.#failedUntil.set(name, this.#options.clock.now() + retryMs);
    if (cause instanceof ProviderUnavailable) return cause;
    return new ProviderUnavailable(`provider ${name}: ${(cause as Error).message ?? String(cause)}`, {
      cause,
    });
  }
}

/** The key set's URL from discovered metadata: https, or http on a loopback host. */
function jwksUriOf(config: { serverMetadata(): { jwks_uri?: string | undefined } }): string {
  const uri = config.serverMetadata().jwks_uri;
  if (!uri) throw new ProviderUnavailable('the provider names no jwks_uri');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ProviderUnavailable('the provider names a malformed jwks_uri');
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return uri;
  throw new ProviderUnavailable('jwks_uri must use https:// (http:// only on a loopback host)');
}
