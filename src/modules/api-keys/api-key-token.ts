import { prefixedTokenFormat } from '../../core/crypto/prefixed-token.js';

/** API keys: `wdn_<24 hex id>_<secret>` (docs/api-keys.md); the secret part has 32 random bytes (256 bits). */
export const API_KEY = prefixedTokenFormat('wdn_', 12);
export const API_KEY_SECRET_BYTES = 32;
