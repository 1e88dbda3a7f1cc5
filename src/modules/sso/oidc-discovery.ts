import { isIP } from 'node:net';
import * as oidc from 'openid-client';
import type { Clock } from '../../core/clock.js';
import type { SsoProviderConfig } from './sso-provider-config.js';

/** How long a provider's discovered metadata is reused before it is fetched again. */
const METADATA_TTL_MS = 10 * 60_000;
/** Seconds a request to a provider may take (discovery, token, userinfo, JWKS) before it counts as unreachable. */
export const PROVIDER_TIMEOUT_SECONDS = 5;

/** True for `localhost` and loopback addresses (127.0.0.0/8, ::1): the only hosts where `http://` is accepted. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Why an issuer URL is not acceptable, or null when it is: an absolute `https://` URL without credentials, query
 * or fragment; `http://` only on a loopback host (development and tests).
 */
export function issuerProblem(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (url.search || url.hash) return 'must not contain a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return 'must use https:// (http:// only on 127.0.0.1, ::1 or localhost)';
}

/**
 * openid-client configurations of the providers, by discovery, cached per provider for a few minutes. The cache key
 * holds everything discovery depends on, so an edited provider is discovered afresh at its next use.
 */
export class OidcDiscovery {
  readonly #cache = new Map<string, { key: string; expires: number; config: Promise<oidc.Configuration> }>();

  constructor(private readonly clock: Clock) {}

  /** The provider's configuration (discovering it when needed); rejects with openid-client's error when unreachable. */
  configuration(provider: SsoProviderConfig): Promise<oidc.Configuration> {
    const key = `${provider.issuer}\n${provider.clientId}\n${provider.clientSecret ?? ''}`;
    const cached = this.#cache.get(provider.name);
    if (cached && cached.key === key && cached.expires > this.clock.now()) return cached.config;
    const config = discover(provider);
    this.#cache.set(provider.name, { key, expires: this.clock.now() + METADATA_TTL_MS, config });
    // A failed discovery is not kept: the next attempt asks the provider again.
    config.catch(() => {
      if (this.#cache.get(provider.name)?.config === config) this.#cache.delete(provider.name);
    });
    return config;
  }

  forget(name: string): void {
    this.#cache.delete(name);
  }
}

/** One discovery, uncached: the "test connection" action and the cache above. */
export async function discover(provider: SsoProviderConfig): Promise<oidc.Configuration> {
  const issuer = new URL(provider.issuer);
  const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
  const config = await oidc.discovery(
    issuer,
    provider.clientId,
    provider.clientSecret ?? undefined,
    provider.clientSecret === null ? oidc.None() : undefined,
    { timeout: PROVIDER_TIMEOUT_SECONDS, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) },
  );
  config.timeout = PROVIDER_TIMEOUT_SECONDS;
  return config;
}
