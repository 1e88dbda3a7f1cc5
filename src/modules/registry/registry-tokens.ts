import { prefixedTokenFormat } from '../../core/crypto/prefixed-token.js';

/**
 * A request's poll secret, `wdp_<request id>_<secret>` (docs/registry.md#polling): the id part is the request's
 * id, so a poll finds the request by primary key and verifies only the secret part against its keyed hash.
 */
export const POLL_SECRET = prefixedTokenFormat('wdp_', 8);

/** An enrolment token, `wde_<id>_<secret>` (docs/registry.md#enrolment-tokens). */
export const ENROLMENT_TOKEN = prefixedTokenFormat('wde_', 8);
