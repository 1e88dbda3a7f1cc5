import { type Static, Type } from 'typebox';
import { PageSizeSchema } from '../../http/common-schemas.js';

export const SessionSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({
    format: 'date-time',
    description:
      'When the session ends if it is not used again: the earlier of `idleExpiresAt` and `absoluteExpiresAt`',
  }),
  idleExpiresAt: Type.String({
    format: 'date-time',
    description:
      "`lastSeenAt` + the user's idle timeout (their `sessionTimeoutMinutes`, else the system's " +
      '`defaultSessionTimeoutMinutes`); each use moves it on',
  }),
  absoluteExpiresAt: Type.String({
    format: 'date-time',
    description:
      'End of the absolute lifetime (`absoluteSessionHours` after login), however active the session is',
  }),
  ip: Type.String(),
  userAgent: Type.String(),
  stage: Type.String({ description: '`active`, or the login step the session is held at' }),
  current: Type.Boolean({ description: "The caller's own session" }),
});

export type PublicSession = Static<typeof SessionSchema>;

export const SessionListSchema = Type.Object({
  items: Type.Array(SessionSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type SessionList = Static<typeof SessionListSchema>;

const PageProperties = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
  pageSize: Type.Optional(PageSizeSchema),
};

export const PageQuery = Type.Object(PageProperties, { additionalProperties: false });
export type PageInput = Static<typeof PageQuery>;

export const AllSessionsQuery = Type.Object(
  { ...PageProperties, username: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const EndedSchema = Type.Object({ ended: Type.Integer({ description: 'How many sessions ended' }) });
