import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Authenticated encryption at rest (AES-256-GCM) for small secrets such as TOTP keys. Each value is bound to a
 * context string (e.g. `totp:<user id>`) through the GCM additional data, so a sealed value copied into another
 * row does not open there.
 */
export interface SecretBox {
  /** `v1.<iv>.<ciphertext>.<tag>` (base64url parts). A fresh random IV every time. */
  seal(plaintext: Uint8Array, context: string): string;
  /** The plaintext, or null when the value was tampered with, sealed for another context or with another key. */
  open(sealed: string, context: string): Uint8Array | null;
}

/**
 * Derives the AES key from Warden's secret key (WARDEN_SECRET_KEY or the generated key file) with HKDF-SHA256, so
 * the configured string of any form becomes a uniform 256-bit key dedicated to this purpose.
 */
export function createSecretBox(secretKey: string): SecretBox {
  if (secretKey.length < 32) throw new Error('the secret key must be at least 32 characters');
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'warden', 'warden/secret-box/v1', 32));

  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv, ciphertext, tag]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },

    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) return null;
      const [iv, ciphertext, tag] = parts.slice(1).map((part) => Buffer.from(part, 'base64url'));
      if (!iv || !ciphertext || !tag || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
      } catch {
        return null;
      }
    },
  };
}
