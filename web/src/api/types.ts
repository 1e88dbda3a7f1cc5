// Extensions on these type imports: test/console loads console modules under Node's module resolution.
import type { paths } from './schema.js';

type JsonOf<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body of a path's successful answer. */
type ResponseOf<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  responses: { 200: infer Ok };
}
  ? JsonOf<Ok>
  : never;

/** The JSON body a path accepts. */
type RequestOf<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  requestBody?: infer Body;
}
  ? JsonOf<NonNullable<Body>>
  : never;

export type Me = ResponseOf<'/api/v1/me', 'get'>;
export type User = Me['user'];
export type UserList = ResponseOf<'/api/v1/users', 'get'>;
export type CreateUserBody = RequestOf<'/api/v1/users', 'post'>;
/** A created user, with the generated password when the request had none. */
export type CreatedUser = JsonOf<paths['/api/v1/users']['post']['responses'][201]>;
export type RotateSecretBody = RequestOf<'/api/v1/users/{username}/secret', 'post'>;
export type RotatedSecret = ResponseOf<'/api/v1/users/{username}/secret', 'post'>;
export type IssuedMqttToken = ResponseOf<'/api/v1/me/mqtt-token', 'post'>;
export type UpdateUserBody = RequestOf<'/api/v1/users/{username}', 'patch'>;
/** An updated user, with the one-time password a switch from SSO back to local drew. */
export type UpdatedUser = ResponseOf<'/api/v1/users/{username}', 'patch'>;
/** The enabled SSO providers the sign-in page offers. */
export type SignInProvider = ResponseOf<'/api/v1/auth/sso/providers', 'get'>[number];
export type PasswordPolicy = ResponseOf<'/api/v1/settings/password-policy', 'get'>;
export type SecuritySettings = ResponseOf<'/api/v1/settings/security', 'get'>;
export type ScrapeTokenList = ResponseOf<'/api/v1/scrape-tokens', 'get'>;
export type ScrapeToken = ScrapeTokenList['items'][number];
export type CreateScrapeTokenBody = RequestOf<'/api/v1/scrape-tokens', 'post'>;
export type AuditEvent = ResponseOf<'/api/v1/audit', 'get'>['items'][number];
export type Session = ResponseOf<'/api/v1/sessions', 'get'>['items'][number];
export type AccessRoleList = ResponseOf<'/api/v1/access-roles', 'get'>;
export type AccessRole = AccessRoleList['items'][number];
export type AccessRule = AccessRole['rules'][number];
export type CreateAccessRoleBody = RequestOf<'/api/v1/access-roles', 'post'>;
export type UpdateAccessRoleBody = RequestOf<'/api/v1/access-roles/{name}', 'put'>;
export type ExplainBody = RequestOf<'/api/v1/access/explain', 'post'>;
export type Explanation = ResponseOf<'/api/v1/access/explain', 'post'>;
export type MqttClient = ResponseOf<'/api/v1/mqtt/clients', 'get'>['items'][number];
export type BrokerList = ResponseOf<'/api/v1/brokers', 'get'>;
export type Broker = BrokerList['items'][number];
export type BrokerKind = Broker['kind'];
export type BrokerStatus = ResponseOf<'/api/v1/brokers/{name}/status', 'get'>;
export type CreateBrokerBody = RequestOf<'/api/v1/brokers', 'post'>;
export type UpdateBrokerBody = RequestOf<'/api/v1/brokers/{name}', 'put'>;
export type SyncReport = ResponseOf<'/api/v1/brokers/{name}/sync', 'post'>;
export type ApiKeyList = ResponseOf<'/api/v1/api-keys', 'get'>;
export type ApiKey = ApiKeyList['items'][number];
export type CreateApiKeyBody = RequestOf<'/api/v1/api-keys', 'post'>;
export type UpdateApiKeyBody = RequestOf<'/api/v1/api-keys/{id}', 'patch'>;
/** A created key, with the key itself (shown once). */
export type CreatedApiKey = JsonOf<paths['/api/v1/api-keys']['post']['responses'][201]>;
export type SsoProviderList = ResponseOf<'/api/v1/sso/providers', 'get'>;
export type SsoProvider = SsoProviderList['items'][number];
export type SsoPreset = ResponseOf<'/api/v1/sso/presets', 'get'>['items'][number];
export type CreateSsoProviderBody = RequestOf<'/api/v1/sso/providers', 'post'>;
export type UpdateSsoProviderBody = RequestOf<'/api/v1/sso/providers/{name}', 'put'>;
export type TestSsoProviderBody = RequestOf<'/api/v1/sso/providers/test', 'post'>;
export type SsoTestResult = ResponseOf<'/api/v1/sso/providers/test', 'post'>;
export type RegistryState = ResponseOf<'/api/v1/registry', 'get'>;
export type RegistryRequestList = ResponseOf<'/api/v1/registry/requests', 'get'>;
export type RegistryRequest = RegistryRequestList['items'][number];
export type EnrolmentTokenList = ResponseOf<'/api/v1/registry/tokens', 'get'>;
export type EnrolmentToken = EnrolmentTokenList['items'][number];
export type CreateEnrolmentTokenBody = RequestOf<'/api/v1/registry/tokens', 'post'>;
/** A created enrolment token, with the token itself (shown once). */
export type CreatedEnrolmentToken = JsonOf<paths['/api/v1/registry/tokens']['post']['responses'][201]>;
