import { Type } from 'typebox';
import { UserSchema } from '../users/users.schemas.js';

/** What the client must do next to finish logging in; null once the session is complete. */
export const NextStepSchema = Type.Union([
  Type.Enum(['mfa', 'mfa_enroll', 'password_change'], { type: 'string' }),
  Type.Null(),
]);

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 200 }),
    password: Type.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);

/** Answer of login, of the MFA step and of GET /me. */
export const UserWithNextSchema = Type.Object({ user: UserSchema, next: NextStepSchema });

export const NextOnlySchema = Type.Object({ next: NextStepSchema });
