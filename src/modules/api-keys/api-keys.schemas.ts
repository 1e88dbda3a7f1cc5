import { type Static, Type } from 'typebox';
import { PageSizeSchema } from '../../http/common-schemas.js';
import { ROLES, SCOPES } from '../permissions/permissions.policy.js';
import { RoleInputSchema } from '../users/users.schemas.js';

const NameSchema = Type.String({ minLength: 1, maxLength: 100 });
const DescriptionSchema = Type.String({ maxLength: 500 });
const ScopesSchema = Type.Array(Type.Enum(SCOPES, { type: 'string' }), {
  uniqueItems: true,
  maxItems: SCOPES.length,
});
const ExpirySchema = Type.String({
  format: 'date-time',
  description: 'ISO 8601; the key stops working at this moment. Omitted or null = never expires',
});
const IdSchema = Type.String({ maxLength: 100 });

export const CreateApiKeyBody = Type.Object(
  {
    name: NameSchema,
    description: Type.Optional(DescriptionSchema),
    owner: Type.Optional(
      Type.String({ maxLength: 100, description: 'username of the owner; default: the creating user' }),
    ),
    role: RoleInputSchema,
    scopes: ScopesSchema,
    expiresAt: Type.Optional(Type.Union([ExpirySchema, Type.Null()])),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type CreateApiKeyInput = Static<typeof CreateApiKeyBody>;

export const UpdateApiKeyBody = Type.Object(
  {
    name: Type.Optional(NameSchema),
    description: Type.Optional(DescriptionSchema),
    role: Type.Optional(RoleInputSchema),
    scopes: Type.Optional(ScopesSchema),
    expiresAt: Type.Optional(Type.Union([ExpirySchema, Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateApiKeyInput = Static<typeof UpdateApiKeyBody>;

export const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  /** The owner's username. */
  owner: Type.String(),
  role: Type.Enum(ROLES, { type: 'string' }),
  scopes: Type.Array(Type.Enum(SCOPES, { type: 'string' })),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  enabled: Type.Boolean(),
  lastUsedAt: Type.Union([
    Type.String({ format: 'date-time', description: 'precise to about a minute (docs/api-keys.md)' }),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String({ description: 'audit name of the creator: user:<name>, apikey:<id> or cli' }),
});
export type PublicApiKey = Static<typeof ApiKeySchema>;

export const CreatedApiKeySchema = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'the key (`wdn_…`), shown only in this answer' }),
});
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;

export const ApiKeyListSchema = Type.Object({
  items: Type.Array(ApiKeySchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type ApiKeyList = Static<typeof ApiKeyListSchema>;

export const ListApiKeysQuery = Type.Object(
  {
    owner: Type.Optional(Type.String({ maxLength: 100, description: 'only the keys of this username' })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
export type ListApiKeysInput = Static<typeof ListApiKeysQuery>;

export const ApiKeyParams = Type.Object({ id: IdSchema });
