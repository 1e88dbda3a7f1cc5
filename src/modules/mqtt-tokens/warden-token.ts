import { hkdfSync, randomUUID } from 'node:crypto';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** `iss` of a Warden MQTT token: not a URL, so no OpenID provider (whose issuer must be one) can have it. */
export const WARDEN_TOKEN_ISSUER = 'warden';
/** `aud` of a Warden MQTT token: it is good for MQTT CONNECTs and nothing else. */
export const WARDEN_TOKEN_AUDIENCE = 'warden-mqtt';

/** Lifetimes of Warden MQTT tokens, in seconds. */
export const MIN_TOKEN_TTL_SECONDS = 60;
export const MAX_TOKEN_TTL_SECONDS = 3600;
export const DEFAULT_TOKEN_TTL_SECONDS = 900;

/** A token just signed: the compact JWT, its id and when it expires (epoch ms). */
export interface SignedWardenToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresAt: number;
}

/** The claims of a verified Warden MQTT token that Warden reads. */
export interface WardenTokenClaims extends JWTPayload {
  readonly sub: string;
  readonly jti: string;
  readonly exp: number;
}

/**
 * Signs and verifies Warden MQTT tokens (docs/mqtt-tokens.md#warden-mqtt-tokens): HS256 with a key derived from
 * WARDEN_SECRET_KEY by HKDF under its own label, so every instance sharing the key verifies a token any of them
 * issued without shared state, and the key is good for nothing else (the same secret seals data at rest).
 */
export class WardenTokenKey {
  readonly #key: Uint8Array;

  constructor(secretKey: string) {
    this.#key = new Uint8Array(hkdfSync('sha256', secretKey, '', 'warden/mqtt-token', 32));
  }

  /** A token for the user with id `userId`, issued at `now` (epoch ms), valid `ttlSeconds`. */
  async sign(userId: string, now: number, ttlSeconds: number): Promise<SignedWardenToken> {
    const jti = randomUUID();
    const issuedAt = Math.floor(now / 1000);
    const expires = issuedAt + ttlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(WARDEN_TOKEN_ISSUER)
      .setAudience(WARDEN_TOKEN_AUDIENCE)
      .setSubject(userId)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expires)
      .sign(this.#key);
    return { token, jti, expiresAt: expires * 1000 };
  }

  /** The claims of a valid token at `now`; rejects with jose's error otherwise. */
  async verify(token: string, now: number, clockToleranceSeconds: number): Promise<WardenTokenClaims> {
    const { payload } = await jwtVerify(token, this.#key, {
      issuer: WARDEN_TOKEN_ISSUER,
      audience: WARDEN_TOKEN_AUDIENCE,
      algorithms: ['HS256'],
      currentDate: new Date(now),
      clockTolerance: clockToleranceSeconds,
      requiredClaims: ['exp', 'sub', 'jti'],
    });
    return payload as WardenTokenClaims;
  }
}
