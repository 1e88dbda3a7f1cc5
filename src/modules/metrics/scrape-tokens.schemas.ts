import { type Static, Type } from 'typebox';

/** A scrape token as listed (never its secret). */
export const ScrapeTokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  /** Who created it, as the audit log names actors (`user:alice`, `cli`). */
  createdBy: Type.String(),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** The last scrape it authorized, to the minute; null = never used. */
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expired: Type.Boolean(),
});
export type ScrapeToken = Static<typeof ScrapeTokenSchema>;

export const ScrapeTokenListSchema = Type.Object({
  items: Type.Array(ScrapeTokenSchema),
  total: Type.Integer(),
});
export type ScrapeTokenList = Static<typeof ScrapeTokenListSchema>;

export const CreateScrapeTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    /** Omitted or null = never expires. */
    expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateScrapeTokenInput = Static<typeof CreateScrapeTokenBody>;

/** The answer to a create: the token, and its secret — shown this once, never stored or listed. */
export const CreatedScrapeTokenSchema = Type.Object({
  token: ScrapeTokenSchema,
  secret: Type.String({ description: 'Present as `Authorization: Bearer <secret>`; shown only now.' }),
});
export type CreatedScrapeToken = Static<typeof CreatedScrapeTokenSchema>;

export const ScrapeTokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
