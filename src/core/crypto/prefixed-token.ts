import { randomBytes } from 'node:crypto';
import { type GeneratedSecret, generateOpaqueSecret } from './generated-secret.js';

/** The longest secret part a presented token may carry; longer input is no token (never hashed). */
const MAX_SECRET_LENGTH = 256;

/**
 * Credentials Warden hands to programs (API keys `wdn_…`, scrape tokens `wdm_…`, the registry's `wde_…`/`wdp_…`): `<prefix><id>_<secret>`. The
 * prefix makes a leaked token recognisable to people and secret scanners; the id (random hex, not a secret) is
 * the record's primary key, so a presented token is found by one lookup, never a scan, and only its secret
 * part is verified against the stored keyed hash.
 */
export interface PrefixedTokenFormat {
  /** A new id and the whole token for `secret` (shown once; only the secret's hash is stored). */
  issue(secret: GeneratedSecret): { readonly id: string; readonly token: string };
  /** The id and secret of a presented token, or null when it is not of this form. */
  parse(presented: string): { readonly id: string; readonly secret: string } | null;
  /** Whether `id` could be an id of this format (ids in URLs are checked before they reach the database). */
  isId(id: string): boolean;
}

export function prefixedTokenFormat(prefix: string, idBytes: number): PrefixedTokenFormat {
  const idLength = idBytes * 2;
  const ID = new RegExp(`^[0-9a-f]{${idLength}}$`);
  return {
    issue(secret) {
      const id = randomBytes(idBytes).toString('hex');
      return { id, token: `${prefix}${id}_${secret}` };
    },
    parse(presented) {
      if (!presented.startsWith(prefix)) return null;
      const id = presented.slice(prefix.length, prefix.length + idLength);
      const secret = presented.slice(prefix.length + idLength + 1);
      if (!ID.test(id) || presented[prefix.length + idLength] !== '_') return null;
      return secret.length > 0 && secret.length <= MAX_SECRET_LENGTH ? { id, secret } : null;
    },
    isId: (id) => ID.test(id),
  };
}

/** The two operations of the credential hasher a prefixed token's check needs. */
interface KeyedVerifier {
  hashGenerated(secret: GeneratedSecret): string;
  verifyGenerated(record: string, candidate: string): boolean;
}

/**
 * The check every prefixed token shares: find the record the token's id names, verify the secret part in constant
 * time against the record's keyed hash. A malformed token or an unknown id is verified against a dummy record, so
 * every outcome costs one verification and the timing tells nothing about which ids exist.
 */
export function prefixedTokenVerifier(
  format: PrefixedTokenFormat,
  hasher: KeyedVerifier,
  secretBytes: number,
) {
  const dummy = hasher.hashGenerated(generateOpaqueSecret(secretBytes));
  /** The record `presented` names when its secret matches `hashOf(record)`, else null. */
  return async function findVerified<R>(
    presented: string,
    lookup: (id: string) => Promise<R | undefined>,
    hashOf: (record: R) => string,
  ): Promise<R | null> {
    const parsed = format.parse(presented);
    const record = parsed ? await lookup(parsed.id) : undefined;
    const verified = hasher.verifyGenerated(
      record === undefined ? dummy : hashOf(record),
      parsed?.secret ?? '',
    );
    return record !== undefined && verified ? record : null;
  };
}
