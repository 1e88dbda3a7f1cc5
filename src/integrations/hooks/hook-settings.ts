import { Type } from 'typebox';
import type { ProblemItem } from '../../core/errors/app-error.js';
import { parseCidr } from '../../core/net/address-list.js';
import {
  clearableSecret,
  getPath,
  requireValues,
  type StoredConfig,
  writeOnlySecret,
} from '../broker-kind.js';
import { LOOPBACK_CIDRS } from './hook-access.js';
import type { HookSettings } from './hook-integration.js';

/** A hook token must resist guessing: at least this many characters. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Who may call a hook integration's endpoints and how fast, as every hook kind's settings hold it under `hook`.
 * The defaults let the broker on the same host in (loopback) and no one else without a credential.
 */
export const HookAccessSchema = Type.Object(
  {
    token: Type.Optional(
      clearableSecret(
        `Bearer token the broker sends (\`Authorization: Bearer <token>\`), ≥ ${MIN_TOKEN_LENGTH} chars`,
      ),
    ),
    basic: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 100 }),
          password: Type.Optional(writeOnlySecret('HTTP Basic password')),
        },
        { additionalProperties: false },
      ),
    ),
    allowFrom: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 100,
        default: [...LOOPBACK_CIDRS],
        description: 'CIDRs allowed without a credential; [] = a credential is always required',
      }),
    ),
    ratePerSecond: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: 50_000,
        description: 'hook requests per second per source address',
      }),
    ),
    burst: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000_000, default: 100_000, description: 'bucket size' }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Who may call the hook endpoints' },
);

/** The hook access secrets, as paths of a hook kind's settings. */
export const HOOK_SECRET_PATHS = ['hook.token', 'hook.basic.password'] as const;

/** Networks that are CIDRs, a new token long enough, a Basic password with a Basic user. */
export function validateHookAccess(config: StoredConfig, input: StoredConfig): ProblemItem[] {
  const errors: ProblemItem[] = [];
  const allowFrom = (getPath(config, 'hook.allowFrom') as string[] | undefined) ?? [];
  for (const [index, cidr] of allowFrom.entries()) {
    if (!parseCidr(cidr))
      errors.push({ pointer: `/config/hook/allowFrom/${index}`, message: `not a CIDR: ${cidr}` });
  }
  const token = getPath(input, 'hook.token');
  if (typeof token === 'string' && token.length < MIN_TOKEN_LENGTH) {
    errors.push({
      pointer: '/config/hook/token',
      message: `must be at least ${MIN_TOKEN_LENGTH} characters`,
    });
  }
  if (getPath(config, 'hook.basic') !== undefined) {
    errors.push(...requireValues(config, ['hook.basic.password'], 'is required with basic'));
  }
  return errors;
}

/** The runtime hook settings from stored ones. */
export function openHookAccess(config: StoredConfig, secret: (path: string) => string | null): HookSettings {
  const basicUsername = getPath(config, 'hook.basic.username');
  const basicPassword = secret('hook.basic.password');
  return {
    access: {
      token: secret('hook.token'),
      basic:
        typeof basicUsername === 'string' && basicPassword !== null
          ? { username: basicUsername, password: basicPassword }
          : null,
      allowFrom: (getPath(config, 'hook.allowFrom') as string[] | undefined) ?? [...LOOPBACK_CIDRS],
    },
    ratePerSecond: Number(getPath(config, 'hook.ratePerSecond')),
    burst: Number(getPath(config, 'hook.burst')),
  };
}
