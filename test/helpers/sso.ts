import { createSecretBox } from '../../src/core/crypto/secret-box.js';
import type { NewSsoProviderRow } from '../../src/modules/sso/sso.table.js';
import { clientSecretContext } from '../../src/modules/sso/sso-provider-config.js';
import { insertSsoProvider } from '../../src/modules/sso/sso-providers.repository.js';
import type { Services } from '../../src/services.js';
import type { TestOidcProvider } from './oidc-provider.js';

export const TEST_CLIENT_ID = 'warden';
export const TEST_CLIENT_SECRET = 'test-client-secret-0123456789';

/**
 * Stores a provider row pointing at a test OpenID Provider, below the providers API (for the suites that test
 * sign-in and MQTT tokens, not provider management). `overrides` may set any column; the secret is sealed as
 * the service seals it.
 */
export async function addTestProvider(
  services: Services,
  op: TestOidcProvider,
  overrides: Partial<NewSsoProviderRow> & { name?: string } = {},
): Promise<string> {
  const name = overrides.name ?? 'test-op';
  const box = createSecretBox(services.infra.secretKey);
  const now = services.infra.clock.now();
  await insertSsoProvider(services.infra.db, {
    name,
    display_name: 'Test OP',
    issuer: op.issuer,
    client_id: TEST_CLIENT_ID,
    client_secret_sealed: box.seal(Buffer.from(TEST_CLIENT_SECRET), clientSecretContext(name)),
    scopes: JSON.stringify(['openid', 'email', 'profile', 'groups']),
    default_scopes: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  });
  return name;
}
