import { type Static, Type } from 'typebox';
import { PageSizeSchema } from '../../http/common-schemas.js';
import { UsernameSchema } from '../users/users.schemas.js';

/** The most an unlock lasts, in minutes. */
export const MAX_UNLOCK_MINUTES = 60;
/** `metadata` as JSON is at most this long, with at most {@link MAX_METADATA_MEMBERS} members. */
export const MAX_METADATA_BYTES = 2048;
export const MAX_METADATA_MEMBERS = 32;

/**
 * MQTT client ids the registry accepts: they become a topic level (`$warden/registry/<clientId>/…`), so no `/`,
 * `+`, `#` or spaces; serial numbers, MAC addresses and host names fit.
 */
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9_.:@-]{1,128}$';

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

export const RegistrationBody = Type.Object(
  {
    username: UsernameSchema,
    clientId: Type.Optional(
      Type.String({
        pattern: CLIENT_ID_PATTERN,
        description: 'The MQTT client id the device will use (shown to administrators)',
      }),
    ),
    csr: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A PEM certificate signing request (at most 8 KiB, else 400 certificate.csr_too_large) with CN = username: the device then receives a certificate instead of a password',
      }),
    ),
    token: Type.Optional(
      Type.String({
        maxLength: 300,
        description: 'An enrolment token (`wde_…`); needed while the registry is locked',
      }),
    ),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
        maxProperties: MAX_METADATA_MEMBERS,
        description: `Free JSON object shown to administrators (at most ${MAX_METADATA_BYTES} bytes as JSON)`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type RegistrationInput = Static<typeof RegistrationBody>;

export const SubmittedSchema = Type.Object({
  requestId: Type.String(),
  pollSecret: Type.String({
    description:
      'Poll with `Authorization: Bearer <pollSecret>`; shown only in this answer (docs/registry.md#polling)',
  }),
  status: Type.Literal('pending'),
  expiresAt: DateTime,
});
export type Submitted = Static<typeof SubmittedSchema>;

export const REQUEST_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
const StatusSchema = Type.Enum(REQUEST_STATUSES, { type: 'string' });

export const CredentialsSchema = Type.Object({
  username: Type.String(),
  password: Type.Optional(
    Type.String({ description: 'The MQTT password (a generated secret), when the request had no CSR' }),
  ),
  certificatePem: Type.Optional(Type.String({ description: "The device's certificate, when it sent a CSR" })),
  chainPem: Type.Optional(
    Type.String({ description: 'The certificate followed by the CA certificate that signed it' }),
  ),
});
export type Credentials = Static<typeof CredentialsSchema>;

/** What a device learns when it polls with its poll secret. */
export const DeviceStatusSchema = Type.Object({
  requestId: Type.String(),
  status: StatusSchema,
  expiresAt: DateTime,
  reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  credentialsDelivered: Type.Optional(
    Type.Boolean({
      description:
        'With `approved`: true when the credentials were delivered before (they are never delivered twice)',
    }),
  ),
  credentials: Type.Optional(CredentialsSchema),
});
export type DeviceStatus = Static<typeof DeviceStatusSchema>;

/** A request as administrators see it. */
export const RegistryRequestSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  clientId: Type.Union([Type.String(), Type.Null()]),
  source: Type.Enum(['rest', 'mqtt'], { type: 'string' }),
  ip: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  hasCsr: Type.Boolean(),
  viaToken: Type.Union([Type.String(), Type.Null()], {
    description: 'The id of the enrolment token it came with, or null',
  }),
  status: StatusSchema,
  createdAt: DateTime,
  expiresAt: DateTime,
  decidedAt: NullableDateTime,
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  accessRoles: Type.Array(Type.String()),
  certificateSerial: Type.Union([Type.String(), Type.Null()]),
  credentialsDelivered: Type.Boolean(),
});
export type RegistryRequest = Static<typeof RegistryRequestSchema>;

export const RegistryRequestListSchema = Type.Object({
  items: Type.Array(RegistryRequestSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type RegistryRequestList = Static<typeof RegistryRequestListSchema>;

export const ListRequestsQuery = Type.Object(
  {
    status: Type.Optional(StatusSchema),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
export type ListRequestsInput = Static<typeof ListRequestsQuery>;

export const RequestParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const ApproveBody = Type.Object(
  {
    accessRoles: Type.Optional(
      Type.Array(Type.String({ maxLength: 100 }), {
        uniqueItems: true,
        maxItems: 100,
        description: 'Access roles of the new device, in evaluation order (default: none, so no permissions)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ApproveInput = Static<typeof ApproveBody>;

export const RejectBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500, description: 'Told to the device' })) },
  { additionalProperties: false },
);
export type RejectInput = Static<typeof RejectBody>;

export const LimitsSchema = Type.Object(
  {
    maxPending: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    requestExpiryHours: Type.Integer({ minimum: 1, maximum: 720, default: 24 }),
    certificateValidityDays: Type.Integer({ minimum: 1, maximum: 3650, default: 365 }),
  },
  { additionalProperties: false },
);
export type RegistryLimits = Static<typeof LimitsSchema>;

export const RegistryStateSchema = Type.Object({
  unlockedUntil: NullableDateTime,
  /** Whether devices without an enrolment token may register now. */
  unlocked: Type.Boolean(),
  pendingCount: Type.Integer(),
  limits: LimitsSchema,
  /** The server's time, so that the console counts down without trusting the browser's clock. */
  now: DateTime,
});
export type RegistryState = Static<typeof RegistryStateSchema>;

export const UnlockBody = Type.Object(
  {
    minutes: Type.Integer({
      minimum: 1,
      maximum: MAX_UNLOCK_MINUTES,
      description: `How long devices may register without a token (at most ${MAX_UNLOCK_MINUTES})`,
    }),
  },
  { additionalProperties: false },
);

export const EnrolmentTokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  usesLeft: Type.Integer(),
  expiresAt: DateTime,
  expired: Type.Boolean(),
  createdAt: DateTime,
  createdBy: Type.String(),
});
export type EnrolmentToken = Static<typeof EnrolmentTokenSchema>;

export const EnrolmentTokenListSchema = Type.Object({
  items: Type.Array(EnrolmentTokenSchema),
  total: Type.Integer(),
});
export type EnrolmentTokenList = Static<typeof EnrolmentTokenListSchema>;

/** Tokens last a week unless told otherwise; never longer than a year. */
export const DEFAULT_TOKEN_DAYS = 7;
export const MAX_TOKEN_DAYS = 366;

export const CreateTokenBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({ maxLength: 100, description: 'What the token is for (a batch, a site)' }),
    ),
    uses: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: 'How many requests it admits' }),
    ),
    expiresAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: `Default: in ${DEFAULT_TOKEN_DAYS} days; at most a year`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateTokenInput = Static<typeof CreateTokenBody>;

export const CreatedTokenSchema = Type.Object({
  token: EnrolmentTokenSchema,
  secret: Type.String({ description: 'The token (`wde_…`) to give the devices; shown only now' }),
});
export type CreatedToken = Static<typeof CreatedTokenSchema>;

export const TokenParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
