import { randomBytes } from 'node:crypto';
import { createTOTPKeyURI, generateHOTP, verifyHOTP } from '@oslojs/otp';
import { sha256Hex } from '../../core/crypto/tokens.js';

/**
 * RFC 6238 parameters every authenticator app understands: 30 s, 6 digits, SHA-1
 * (docs/authentication.md#multi-factor-authentication-totp).
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes of this many steps either side of the current one are accepted (phone clocks drift). */
export const TOTP_DRIFT_STEPS = 1;
export const TOTP_ISSUER = 'Warden';
/** RFC 4226 recommends 160-bit keys for HMAC-SHA-1. */
const TOTP_KEY_BYTES = 20;

export const RECOVERY_CODE_COUNT = 10;
/** 32 unambiguous characters (no l, o, 0, 1): each character carries exactly 5 bits. */
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
/** 16 characters = 80 random bits: far beyond guessing, so an unsalted SHA-256 is a safe way to store them. */
const RECOVERY_CODE_LENGTH = 16;

export function newTotpKey(): Uint8Array {
  return new Uint8Array(randomBytes(TOTP_KEY_BYTES));
}

/** The RFC 6238 time step (counter) at `nowMs`, from the injected clock (never `Date.now()`). */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / (TOTP_PERIOD_SECONDS * 1000));
}

/** The `otpauth://` URI an authenticator app scans. */
export function totpKeyUri(username: string, key: Uint8Array): string {
  return createTOTPKeyURI(TOTP_ISSUER, username, key, TOTP_PERIOD_SECONDS, TOTP_DIGITS);
}

/** The base32 secret inside an `otpauth://` URI, for typing it in by hand. */
export function secretOfUri(uri: string): string {
  const secret = new URL(uri).searchParams.get('secret');
  if (!secret) throw new Error('otpauth URI without a secret');
  return secret;
}

/** The code an authenticator shows at time step `step` (HOTP with the step as counter: RFC 6238). */
export function totpCodeAt(key: Uint8Array, step: number): string {
  return generateHOTP(key, BigInt(step), TOTP_DIGITS);
}

/**
 * The time step whose code `code` is, within the drift window around `nowMs`, or null. The caller accepts it
 * only if that step is newer than the last one used, which makes every code single-use.
 */
export function matchTotpStep(key: Uint8Array, code: string, nowMs: number): number | null {
  const normalized = code.replace(/\s+/g, '');
  const current = totpStep(nowMs);
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step += 1) {
    if (verifyHOTP(key, BigInt(step), TOTP_DIGITS, normalized)) return step;
  }
  return null;
}

/** Ten fresh recovery codes, formatted `xxxx-xxxx-xxxx-xxxx`. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(RECOVERY_CODE_LENGTH);
    // 256 is a multiple of 32, so `byte % 32` is uniform.
    const chars = [...bytes].map((byte) => RECOVERY_ALPHABET[byte % RECOVERY_ALPHABET.length]).join('');
    return chars.match(/.{4}/g)?.join('-') ?? chars;
  });
}

/** Case, dashes and spaces do not matter when a recovery code is typed in. */
export function hashRecoveryCode(code: string): string {
  return sha256Hex(code.toLowerCase().replace(/[^a-z0-9]/g, ''));
}
