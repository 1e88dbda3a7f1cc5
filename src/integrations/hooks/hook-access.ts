import { createHash, timingSafeEqual } from 'node:crypto';
import { AddressList } from '../../core/net/address-list.js';

/** Who may call a broker's hook endpoints (docs/brokers.md#hook-security-and-rate-limits). */
export interface HookAccessConfig {
  /** Accepted as `Authorization: Bearer <token>` (EMQX can send headers). */
  readonly token: string | null;
  /** Accepted as HTTP Basic auth (e.g. VerneMQ endpoints `http://user:pass@host/…`). */
  readonly basic: { readonly username: string; readonly password: string } | null;
  /** Source networks (CIDR) allowed without a credential; mosquitto-go-auth cannot send one. */
  readonly allowFrom: readonly string[];
}

/** Loopback only: the default when no network is configured. */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** How a request was admitted, or why not. */
export type HookVerdict = 'credential' | 'address' | 'bad_credential' | 'refused';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Equal digests compare in constant time whatever the lengths of the originals. */
function sameSecret(presented: string, expected: Buffer | null): boolean {
  return expected !== null && timingSafeEqual(digest(presented), expected);
}

/**
 * The credential and address check of one hook integration. Built once per configuration; `verdict` is on
 * every hook request's path, so it does no I/O and allocates little. Secrets are kept only as SHA-256
 * digests and compared in constant time.
 */
export class HookAccessCheck {
  readonly #token: Buffer | null;
  readonly #basic: Buffer | null;
  readonly #networks: AddressList;

  constructor(config: HookAccessConfig) {
    this.#token = config.token ? digest(config.token) : null;
    this.#basic = config.basic ? digest(`${config.basic.username}:${config.basic.password}`) : null;
    this.#networks = new AddressList(config.allowFrom);
  }

  /**
   * Decides one request: a presented credential must be the configured one (a wrong one is refused even from
   * an allowed network, so a misconfigured broker shows up at once); without one the source address must be
   * in an allowed network.
   */
  verdict(ip: string, authorization: string | undefined): HookVerdict {
    if (authorization !== undefined && authorization !== '') {
      const space = authorization.indexOf(' ');
      const scheme = authorization.slice(0, space).toLowerCase();
      const value = authorization.slice(space + 1).trim();
      if (space > 0 && scheme === 'bearer' && sameSecret(value, this.#token)) return 'credential';
      if (
        space > 0 &&
        scheme === 'basic' &&
        sameSecret(Buffer.from(value, 'base64').toString('utf8'), this.#basic)
      )
        return 'credential';
      return 'bad_credential';
    }
    return this.#networks.contains(ip) ? 'address' : 'refused';
  }
}
