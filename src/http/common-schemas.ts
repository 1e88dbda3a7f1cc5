import { Type } from 'typebox';

/**
 * Every 4xx/5xx answer of the API (RFC 9457 problem+json, docs/errors.md). Declared on every route by the app
 * (src/app.ts), so the OpenAPI document and the console's generated types know it. Extension members such as
 * `denial` pass through (`additionalProperties`).
 */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable error code (docs/errors.md)' }),
    instance: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            pointer: Type.Optional(
              Type.String({ description: 'JSON Pointer into the request, e.g. /body/name' }),
            ),
            rule: Type.Optional(Type.String()),
            index: Type.Optional(Type.Integer()),
            message: Type.String(),
          },
          { additionalProperties: true },
        ),
      ),
    ),
    denial: Type.Optional(
      Type.Object(
        {
          reason: Type.String({
            description: 'what was missing: role, scope, login_stage, grant, target, …',
          }),
        },
        { additionalProperties: true, description: 'on 401/403: what was missing (docs/permissions.md)' },
      ),
    ),
  },
  { $id: 'Problem', additionalProperties: true },
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
