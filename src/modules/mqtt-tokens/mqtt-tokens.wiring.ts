import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MqttTokenAuthenticator } from '../mqtt/mqtt-auth.service.js';
import type { OidcDiscovery } from '../sso/oidc-discovery.js';
import type { SsoProviderDirectory } from '../sso/sso-provider-directory.js';
import type { ThrottleService } from '../throttle/throttle.service.js';
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
  users: Pick<UserReader, 'findRowById' | 'mustFindRow' | 'findRowBySsoSubject' | 'findRowsByEmail'>;
  ssoProviders: Pick<SsoProviderDirectory, 'listEnabled'>;
  secretKey: string;
  /** The providers' discovered metadata, shared with the sign-in. */
  discovery: OidcDiscovery;
  providerKeys?: ProviderKeysTuning;
}): { authenticator: MqttTokenAuthenticator; service: MqttTokensService } {
  const { db, clock, audit } = deps;
  const key = new WardenTokenKey(deps.secretKey);
  const verifier = new TokenVerifier({
    clock,
    wardenKey: key,
    providers: deps.ssoProviders,
    keys: new ProviderKeys({ clock, discovery: deps.discovery, ...deps.providerKeys }),
  });
  return {
    authenticator: createMqttTokenAuthenticator({
      db,
      clock,
      audit,
      throttle: deps.throttle,
      users: deps.users,
      verifier,
    }),
    service: createMqttTokensService({ db, clock, audit, users: deps.users, key }),
  };
}
