import type { AccessRolesTable, UserAccessRolesTable } from '../modules/access-roles/access-roles.table.js';
import type { ApiKeysTable } from '../modules/api-keys/api-keys.table.js';
import type { AuditEventsTable } from '../modules/audit/audit.table.js';
import type {
  BrokerCredentialsTable,
  BrokerIntegrationsTable,
  BrokerPasswordSyncTable,
} from '../modules/brokers/brokers.table.js';
import type {
  CertificateAuthoritiesTable,
  IssuedCertificatesTable,
} from '../modules/certificates/certificates.table.js';
import type { ScrapeTokensTable } from '../modules/metrics/scrape-tokens.table.js';
import type { RecoveryCodesTable, UserMfaTable } from '../modules/mfa/mfa.table.js';
import type {
  RegistryRequestsTable,
  RegistryStateTable,
  RegistryTokensTable,
} from '../modules/registry/registry.table.js';
import type { SessionsTable } from '../modules/sessions/sessions.table.js';
import type { SettingsTable } from '../modules/settings/settings.table.js';
import type { SsoProvidersTable } from '../modules/sso/sso.table.js';
import type { LoginThrottleTable } from '../modules/throttle/throttle.table.js';
import type {
  PasswordHistoryTable,
  UserCountsTable,
  UserListGenerationTable,
  UsersTable,
} from '../modules/users/users.table.js';
import type { ChangeFeedTable } from './change-feed/change-feed.table.js';
import type { DutyHoldersTable } from './leadership/leadership.table.js';

/** The whole schema as Kysely sees it; each feature owns the table types it declares. */
export interface Database {
  users: UsersTable;
  user_counts: UserCountsTable;
  user_list_generation: UserListGenerationTable;
  password_history: PasswordHistoryTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  settings: SettingsTable;
  user_mfa: UserMfaTable;
  recovery_codes: RecoveryCodesTable;
  login_throttle: LoginThrottleTable;
  access_roles: AccessRolesTable;
  user_access_roles: UserAccessRolesTable;
  broker_integrations: BrokerIntegrationsTable;
  broker_credentials: BrokerCredentialsTable;
  broker_password_sync: BrokerPasswordSyncTable;
  change_feed: ChangeFeedTable;
  duty_holders: DutyHoldersTable;
  api_keys: ApiKeysTable;
  scrape_tokens: ScrapeTokensTable;
  sso_providers: SsoProvidersTable;
  registry_state: RegistryStateTable;
  registry_requests: RegistryRequestsTable;
  registry_tokens: RegistryTokensTable;
  certificate_authorities: CertificateAuthoritiesTable;
  issued_certificates: IssuedCertificatesTable;
}
