import { discover } from './oidc-discovery.js';
import type { ProviderSettings, SsoProviderConfig } from './sso-provider-config.js';
import type { SsoTestResult } from './sso-providers.schemas.js';

// "Test connection" (docs/sso.md#test-connection): discovery at the issuer, and what it found or the error.

/** The error a failed discovery reports, in the provider's (and openid-client's) own words. */
export function describeDiscoveryFailure(error: unknown): { error: string; errorCode?: string } {
  if (!(error instanceof Error)) return { error: String(error) };
  const { code, cause } = error as Error & { code?: unknown; cause?: unknown };
  let message = error.message;
  if (cause instanceof Response) {
    message += ` (HTTP ${cause.status}${cause.statusText ? ` ${cause.statusText}` : ''})`;
  } else if (cause instanceof Error) {
    message += `: ${cause.message}`;
  } else if (cause && typeof cause === 'object' && 'expected' in cause && 'attribute' in cause) {
    // A metadata value that does not match, e.g. the issuer the provider names itself with.
    const { expected, attribute, body } = cause as { expected: unknown; attribute: string; body?: unknown };
    const actual =
      body && typeof body === 'object' ? (body as Record<string, unknown>)[attribute] : undefined;
    message += ` (${attribute}: expected ${JSON.stringify(expected)}, the provider says ${JSON.stringify(actual)})`;
  }
  return typeof code === 'string' ? { error: message, errorCode: code } : { error: message };
}

/** Configured scopes and claims the provider's metadata does not list (it may still honour them). */
function discoveryWarnings(
  settings: ProviderSettings,
  scopesSupported: readonly string[] | undefined,
  claimsSupported: readonly string[] | undefined,
): string[] {
  const warnings: string[] = [];
  if (scopesSupported) {
    for (const scope of settings.scopes) {
      if (!scopesSupported.includes(scope))
        warnings.push(`scope "${scope}" is not in the provider's scopes_supported`);
    }
  }
  if (claimsSupported) {
    for (const claim of [settings.emailClaim, settings.groupsClaim]) {
      if (claim !== '' && !claimsSupported.includes(claim)) {
        warnings.push(
          `claim "${claim}" is not in the provider's claims_supported (a mapper may still add it)`,
        );
      }
    }
  }
  return warnings;
}

/** Discovery at the provider: what it advertises, or its error — a misconfiguration is an answer, not a failure. */
export async function probe(settings: ProviderSettings, config: SsoProviderConfig): Promise<SsoTestResult> {
  try {
    const metadata = (await discover(config)).serverMetadata();
    const scopesSupported = metadata.scopes_supported;
    const claimsSupported = metadata.claims_supported;
    const warnings = discoveryWarnings(settings, scopesSupported, claimsSupported);
    return {
      ok: true,
      issuer: metadata.issuer,
      ...(metadata.authorization_endpoint ? { authorizationEndpoint: metadata.authorization_endpoint } : {}),
      ...(metadata.token_endpoint ? { tokenEndpoint: metadata.token_endpoint } : {}),
      ...(metadata.userinfo_endpoint ? { userinfoEndpoint: metadata.userinfo_endpoint } : {}),
      ...(metadata.end_session_endpoint ? { endSessionEndpoint: metadata.end_session_endpoint } : {}),
      ...(scopesSupported ? { scopesSupported: [...scopesSupported] } : {}),
      ...(claimsSupported ? { claimsSupported: [...claimsSupported] } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } catch (error) {
    return { ok: false, ...describeDiscoveryFailure(error) };
  }
}
