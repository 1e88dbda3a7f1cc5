import type { ErrorCatalog } from './core/errors/app-error.js';
import { coreError } from './core/errors/core-errors.js';
import { accessRoleError } from './modules/access-roles/access-roles.errors.js';
import { apiKeyError } from './modules/api-keys/api-keys.errors.js';
import { authError } from './modules/auth/auth.errors.js';
import { brokerError } from './modules/brokers/brokers.errors.js';
import { certificateError } from './modules/certificates/certificates.errors.js';
import { forwardAuthError } from './modules/forward-auth/forward-auth.errors.js';
import { metricsError } from './modules/metrics/metrics.errors.js';
import { mfaError } from './modules/mfa/mfa.errors.js';
import { mqttError } from './modules/mqtt/mqtt.errors.js';
import { mqttTokenError } from './modules/mqtt-tokens/mqtt-tokens.errors.js';
import { registryError } from './modules/registry/registry.errors.js';
import { sessionError } from './modules/sessions/sessions.errors.js';
import { settingsError } from './modules/settings/settings.errors.js';
import { ssoError } from './modules/sso/sso.errors.js';
import { ssoLoginError } from './modules/sso/sso-login.errors.js';
import { userError } from './modules/users/users.errors.js';

/** Every feature's slice of the error catalogue; docs/errors.md is generated from this (npm run docs:errors). */
export const ERROR_CATALOG_SLICES: ReadonlyArray<{ feature: string; catalog: ErrorCatalog }> = [
  { feature: 'Core', catalog: coreError.catalog },
  { feature: 'Users', catalog: userError.catalog },
  { feature: 'Authentication and sessions', catalog: authError.catalog },
  { feature: 'Sessions', catalog: sessionError.catalog },
  { feature: 'Multi-factor authentication', catalog: mfaError.catalog },
  { feature: 'Passwords and settings', catalog: settingsError.catalog },
  { feature: 'Access roles', catalog: accessRoleError.catalog },
  { feature: 'MQTT clients', catalog: mqttError.catalog },
  { feature: 'MQTT tokens', catalog: mqttTokenError.catalog },
  { feature: 'Broker integrations and hooks', catalog: brokerError.catalog },
  { feature: 'API keys', catalog: apiKeyError.catalog },
  { feature: 'Forward-auth', catalog: forwardAuthError.catalog },
  { feature: 'Metrics and scrape tokens', catalog: metricsError.catalog },
  { feature: 'Single sign-on', catalog: ssoError.catalog },
  { feature: 'Client registry', catalog: registryError.catalog },
  { feature: 'Certificates', catalog: certificateError.catalog },
  { feature: 'Single sign-on: signing in', catalog: ssoLoginError.catalog },
];

/** The catalogue rendered as the Markdown of docs/errors.md. */
export function renderErrorDocs(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error is an RFC 9457 problem (`application/problem+json`):',
    '`{ "type", "title", "status", "detail", "code", "instance", "requestId", "errors"? }`.',
    'Clients should branch on `code`, which is stable; `title` and `detail` are for people.',
    'This file is generated from the code (`npm run docs:errors`); a test fails when it is out of date.',
    '',
  ];
  for (const { feature, catalog } of ERROR_CATALOG_SLICES) {
    lines.push(`## ${feature}`, '', '| code | status | title | when |', '|---|---|---|---|');
    for (const [code, spec] of Object.entries(catalog)) {
      lines.push(
        `| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.description.replaceAll('|', '\\|')} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
