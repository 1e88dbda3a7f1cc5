import { type Static, Type } from 'typebox';
import { NextStepSchema } from '../auth/auth.schemas.js';

/** Six digits; spaces are tolerated because authenticator apps show `123 456`. */
export const TotpCodeSchema = Type.String({ minLength: 6, maxLength: 12, pattern: '^[0-9 ]+$' });
export const RecoveryCodeSchema = Type.String({ minLength: 1, maxLength: 64 });

export const TotpEnrolmentSchema = Type.Object({
  secret: Type.String({ description: 'Base32 secret, for typing into an authenticator by hand' }),
  otpauthUri: Type.String({ description: '`otpauth://totp/...` URI (what the QR code encodes)' }),
  qrSvg: Type.String({ description: 'The URI as an SVG QR code' }),
});

export const ConfirmTotpBody = Type.Object({ code: TotpCodeSchema }, { additionalProperties: false });

export const ConfirmTotpResponse = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each works once in place of a code' }),
  next: NextStepSchema,
});

export const MfaLoginBody = Type.Union([
  Type.Object({ code: TotpCodeSchema }, { additionalProperties: false }),
  Type.Object({ recoveryCode: RecoveryCodeSchema }, { additionalProperties: false }),
]);
export type MfaLoginInput = Static<typeof MfaLoginBody>;

/** Disabling proves the user is present: a current code or the password. */
export const DisableMfaBody = Type.Union([
  Type.Object({ code: TotpCodeSchema }, { additionalProperties: false }),
  Type.Object({ password: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }),
]);
export type DisableMfaInput = Static<typeof DisableMfaBody>;
