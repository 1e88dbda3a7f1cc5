import { Type } from 'typebox';

/** Response schema for problem+json answers, referenced by routes for OpenAPI. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  },
  { $id: 'Problem' },
);

export const NoContent = Type.Null({ description: 'No content' });

/** Usernames, access-role and broker-integration names: 3–50 characters of `[A-Za-z0-9_.-]`. */
export const NAME_PATTERN = '^[A-Za-z0-9_.-]{3,50}$';
export const NameSchema = Type.String({ minLength: 3, maxLength: 50, pattern: NAME_PATTERN });

/** The page sizes every list endpoint accepts. */
export const PAGE_SIZES = [25, 50, 100, 250] as const;

export const PageSizeSchema = Type.Unsafe<(typeof PAGE_SIZES)[number]>({
  type: 'integer',
  enum: [...PAGE_SIZES],
  default: 25,
});

/** `{username}` in a path: bounded, matched case-insensitively by the services (unknown names answer 404). */
export const UsernameParams = Type.Object({ username: Type.String({ maxLength: 100 }) });
