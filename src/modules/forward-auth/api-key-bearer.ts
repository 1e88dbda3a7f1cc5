import { AppError } from '../../core/errors/app-error.js';
import type { ApiKeysService } from '../api-keys/api-keys.service.js';
import { throttledOutcome } from '../throttle/throttle.service.js';
import type { BearerResolver } from './forward-auth.service.js';

/**
 * API keys as forward-auth identities: the same authentication as on the API (expiry, disable, the owner's
 * state, the per-address budget of failed keys), answered as an outcome instead of a problem, because the
 * guard turns it into forward-auth's own answers (a throttled key is a 401 with Retry-After, docs/forward-auth.md).
 */
export function apiKeyBearer(apiKeys: Pick<ApiKeysService, 'authenticate'>): BearerResolver {
  return async (token, ip) => {
    try {
      const actor = await apiKeys.authenticate(token, ip);
      return { ok: true, username: actor.username };
    } catch (error) {
      const throttled = throttledOutcome(error);
      if (throttled) return throttled;
      if (error instanceof AppError && error.code === 'auth.invalid_api_key')
        return { ok: false, reason: 'invalid' };
      throw error;
    }
  };
}
