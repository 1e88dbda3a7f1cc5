import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MqttTokenAuthenticator } from '../mqtt/mqtt-auth.service.js';
import { OidcDiscovery } from '../sso/oidc-discovery.js';
import type { SsoProviderDirectory } from '../sso/sso-provider-directory.js';
import type { ThrottleService } from '../throttle/throttle.service.js';
import { createSsoUserLookup } from '../users/sso-user-lookup.js';
import type { UserReader } from '../users/users.reader.js';
import { createMqttTokenAuthenticator } from './mqtt-token-auth.js';
import { createMqttTokensService, type MqttTokensService } from './mqtt-tokens.service.js';
import { ProviderKeys, type ProviderKeysOptions } from './provider-keys.js';
import { TokenVerifier } from './token-verifier.js';
import { WardenTokenKey } from './warden-token.js';

/** How providers' key sets are fetched; the defaults suit production, tests shorten the waits. */
export type ProviderKeysTuning = Pick<ProviderKeysOptions, 'cooldownMs' | 'retryAfterFailureMs' | 'fetch'>;

/**
 * The parts of MQTT tokens (docs/mqtt-tokens.md), built together because they share Warden's token key: the
 * authenticator the MQTT authentication service hands JWT passwords to, and the service that issues Warden
 * tokens. No side effects.
 */
export function createMqttTokens(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  throttle: Pick<ThrottleService, 'addressFailed'>;
  users: Pick<UserReader, 'findRowById' | 'mustFindRow'>;
  ssoProviders: Pick<SsoProviderDirectory, 'listEnabled'>;
  secretKey: string;
  providerKeys?: ProviderKeysTuning;
}): { authenticator: MqttTokenAuthenticator; service: MqttTokensService } {
  const { db, clock, audit } = deps;
  const key = new WardenTokenKey(deps.secretKey);
  const verifier = new TokenVerifier({
    clock,
    wardenKey: key,
    providers: deps.ssoProviders,
    keys: new ProviderKeys({ clock, discovery: new OidcDiscovery(clock), ...deps.providerKeys }),
  });
  return {
    authenticator: createMqttTokenAuthenticator({
      db,
      clock,
      audit,
      throttle: deps.throttle,
      users: deps.users,
      ssoUsers: createSsoUserLookup({ db }),
      verifier,
    }),
    service: createMqttTokensService({ db, clock, audit, users: deps.users, key }),
  };
}
