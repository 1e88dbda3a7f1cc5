import net from 'node:net';

/** A parsed CIDR: the network address, its prefix length and family. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** A parsed CIDR, or null when `text` is not one (`10.0.0.0/8`, `::1/128`, or a bare address = /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const version = net.isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || prefixText === '') return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The entries of `list` that are not CIDRs (empty when all are). */
export function invalidCidrs(list: readonly string[]): string[] {
  return list.filter((entry) => parseCidr(entry) === null);
}

/** Verdicts remembered per list: a service calls from one or a few addresses; bounded against rotating ones. */
const MAX_KNOWN_ADDRESSES = 1024;

/**
 * Whether an address lies in one of a set of networks (IPv4 and IPv6; an IPv4-mapped IPv6 address such as
 * `::ffff:10.0.0.1` matches IPv4 networks). Matching is node:net's `BlockList`; since its `check` builds a
 * SocketAddress per call, verdicts are remembered, so a check on a request path is one map lookup.
 */
export class AddressList {
  readonly #networks = new net.BlockList();
  readonly #known = new Map<string, boolean>();
  readonly size: number;

  /** Throws for an entry that is not a CIDR: validate first ({@link invalidCidrs}) where input is untrusted. */
  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
      this.#networks.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = cidrs.length;
  }

  /** Whether `ip` is in one of the networks; false for anything that is not an IP address. */
  contains(ip: string): boolean {
    let inside = this.#known.get(ip);
    if (inside === undefined) {
      const family = net.isIP(ip);
      inside = family !== 0 && this.#networks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
      if (this.#known.size >= MAX_KNOWN_ADDRESSES) this.#known.clear();
      this.#known.set(ip, inside);
    }
    return inside;
  }
}
