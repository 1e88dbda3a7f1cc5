import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of API keys: managing them, and authenticating with one (docs/api-keys.md). */
export const apiKeyError = defineErrors({
  'auth.invalid_api_key': {
    status: 401,
    title: 'Invalid API key',
    description:
      'The `Authorization: Bearer` key is malformed, unknown, revoked, disabled or expired, or its owner is deactivated or deleted: always the same answer.',
  },
  'auth.ambiguous_credentials': {
    status: 400,
    title: 'Two credentials in one request',
    description:
      'The request carries both a session cookie and an `Authorization: Bearer` key; send exactly one.',
  },
  'api_key.not_found': {
    status: 404,
    title: 'API key not found',
    description: 'No API key has this id.',
  },
  'api_key.scopes_incompatible': {
    status: 400,
    title: 'Scopes do not fit the role',
    description:
      "The key's role cannot hold some of its scopes (the scope table of docs/permissions.md); `errors` names them.",
  },
  'api_key.exceeds_owner': {
    status: 400,
    title: "Key exceeds its owner's rights",
    description:
      "The key's role is above its owner's role or it names scopes its owner does not hold; a key never holds more than its owner.",
  },
  'api_key.owner_not_allowed': {
    status: 400,
    title: 'Owner cannot hold API keys',
    description: 'Only people and services own API keys; a device connects to MQTT only.',
  },
  'api_key.owner_required': {
    status: 400,
    title: 'Owner required',
    description: "The CLI acts for no user: name the key's owner (`--owner`).",
  },
  'api_key.expiry_in_past': {
    status: 400,
    title: 'Expiry in the past',
    description: '`expiresAt` must lie in the future.',
  },
});
