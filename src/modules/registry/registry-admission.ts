import type { FastifyRequest } from 'fastify';
import { TokenBucketLimiter } from '../../core/rate-limit/token-bucket.js';
import type { Requirement } from '../permissions/permissions.policy.js';
import { POLL_SECRET } from './registry-tokens.js';

/**
 * Registration requests per source address (docs/registry.md#limits): a burst of 30, then one every two
 * seconds, so a gateway registering a batch of devices fits and a flood does not.
 */
export const REQUEST_RATE = { ratePerSecond: 0.5, burst: 30 } as const;
/** Polls per source address: a burst of 60, then five a second (a hundred devices behind one NAT polling every 20 s). */
export const POLL_RATE = { ratePerSecond: 5, burst: 60 } as const;

export type AdmissionPurpose = 'request' | 'poll';

/**
 * The per-address rate limit of everything devices send the registry (requests over REST or MQTT, polls). Kept
 * in this process's memory: each instance admits its own share, which bounds what one source can make any
 * instance do; the pending cap (in the database) bounds the whole.
 */
export function createRegistryAdmission(now: () => number): {
  /** 0 when `ip` may send one more now, else the milliseconds until it may. */
  admit(ip: string, purpose: AdmissionPurpose): number;
} {
  const limiters: Record<AdmissionPurpose, TokenBucketLimiter> = {
    request: new TokenBucketLimiter({ ...REQUEST_RATE, now }),
    poll: new TokenBucketLimiter({ ...POLL_RATE, now }),
  };
  return { admit: (ip, purpose) => limiters[purpose].take(ip) };
}

/** The poll secret of a request (`Authorization: Bearer wdp_…`), or undefined. */
export function pollSecretOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return undefined;
  const presented = header.slice('bearer '.length).trim();
  return POLL_SECRET.parse(presented) ? presented : undefined;
}

/**
 * Whether a request to a `registration` route comes from a device: always on a route without a `staff`
 * alternative, else when it presents a poll secret (an administrator's request presents a session or API key).
 */
export function isDeviceRegistration(
  request: FastifyRequest,
  requirement: Extract<Requirement, { kind: 'registration' }>,
): boolean {
  return requirement.staff === undefined || pollSecretOf(request) !== undefined;
}
