import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';

/** Who may call a broker's hook endpoints (docs/brokers.md#hook-security-and-rate-limits). */
export interface HookAccessConfig {
  /** Accepted as `Authorization: Bearer <token>` (EMQX can send headers). */
  readonly token: string | null;
  /** Accepted as HTTP Basic auth (e.g. VerneMQ endpoints `http://user:pass@host/…`). */
  readonly basic: { readonly username: string; readonly password: string } | null;
  /** Source networks (CIDR) allowed without a credential; mosquitto-go-auth cannot send one. */
  readonly allowFrom: readonly string[];
}

const MAX_KNOWN_ADDRESSES = 1024;

/** Loopback only: the default when no network is configured. */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** How a request was admitted, or why not. */
export type HookVerdict = 'credential' | 'address' | 'bad_credential' | 'refused';

/** A parsed CIDR, or null when `text` is not one (`10.0.0.0/8`, `::1/128`, or a bare address). */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const version = net.isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || prefixText === '') return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

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
  readonly #networks = new net.BlockList();
  /**
   * Address verdicts already computed: `BlockList.check` builds a SocketAddress per call, and a broker calls
   * from one or a few addresses. Bounded, so rotating addresses cannot grow it.
   */
  readonly #known = new Map<string, boolean>();

  constructor(config: HookAccessConfig) {
    this.#token = config.token ? digest(config.token) : null;
    this.#basic = config.basic ? digest(`${config.basic.username}:${config.basic.password}`) : null;
    for (const cidr of config.allowFrom) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
      this.#networks.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
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
    let allowed = this.#known.get(ip);
    if (allowed === undefined) {
      const family = net.isIP(ip);
      allowed = family !== 0 && this.#networks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
      if (this.#known.size >= MAX_KNOWN_ADDRESSES) this.#known.clear();
      this.#known.set(ip, allowed);
    }
    return allowed ? 'address' : 'refused';
  }
}
