import { type Static, Type } from 'typebox';
import type { IntegrationContext } from '../broker-integration.js';
import {
  decideForAnyQos,
  type HookIntegration,
  type HookServices,
  type HookSettings,
  hookBase,
} from '../hooks/hook-integration.js';

/**
 * mosquitto-go-auth's HTTP backend (docs/broker-protocols.md#mosquitto-go-auth-http-backend). Bodies come as
 * JSON (`acc` a number) or, with `auth_opt_http_params_mode form`, URL-encoded (`acc` a string); the route
 * parses both and the schemas coerce.
 */
export const GoAuthUserBody = Type.Object(
  {
    username: Type.String({ maxLength: 65535 }),
    password: Type.String({ maxLength: 65535 }),
    clientid: Type.Optional(Type.String({ maxLength: 65535 })),
  },
  { additionalProperties: true },
);
export const GoAuthSuperuserBody = Type.Object(
  { username: Type.String({ maxLength: 65535 }) },
  { additionalProperties: true },
);
export const GoAuthAclBody = Type.Object(
  {
    username: Type.String({ maxLength: 65535 }),
    clientid: Type.Optional(Type.String({ maxLength: 65535 })),
    topic: Type.String({ maxLength: 65535 }),
    acc: Type.Integer({ description: '1 = receive (delivery), 2 = publish, 4 = subscribe' }),
  },
  { additionalProperties: true },
);
export type GoAuthUserRequest = Static<typeof GoAuthUserBody>;
export type GoAuthAclRequest = Static<typeof GoAuthAclBody>;

/** Must equal `auth_opt_http_response_mode` (a `?responseMode=` query parameter overrides it per URI). */
export type GoAuthResponseMode = 'status' | 'json' | 'text';
export const GO_AUTH_RESPONSE_MODES: readonly GoAuthResponseMode[] = ['status', 'json', 'text'];

export interface GoAuthSettings {
  readonly hook: HookSettings;
  readonly responseMode: GoAuthResponseMode;
}

/** A decision and, when refused, why (go-auth logs `error` in json mode). */
export interface GoAuthAnswer {
  readonly ok: boolean;
  readonly error?: string;
}

/** The HTTP reply for `answer` in `mode`: status → 200/403; json → 200 `{ok, error?}`; text → 200 `ok`/`denied`. */
export function goAuthReply(
  answer: GoAuthAnswer,
  mode: GoAuthResponseMode,
): { status: number; contentType: string; body: string } {
  if (mode === 'json') return { status: 200, contentType: 'application/json', body: JSON.stringify(answer) };
  if (mode === 'text') return { status: 200, contentType: 'text/plain', body: answer.ok ? 'ok' : 'denied' };
  return {
    status: answer.ok ? 200 : 403,
    contentType: 'application/json',
    body: JSON.stringify(answer),
  };
}

/** go-auth's `acc` values. */
export const GO_AUTH_ACTION_OF_ACC: Readonly<Record<number, 'receive' | 'publish' | 'subscribe'>> = {
  1: 'receive',
  2: 'publish',
  4: 'subscribe',
};

export interface GoAuthIntegration extends HookIntegration {
  readonly kind: 'go-auth';
  readonly responseMode: GoAuthResponseMode;
  user(body: GoAuthUserRequest): Promise<GoAuthAnswer>;
  superuser(): GoAuthAnswer;
  acl(body: GoAuthAclRequest): Promise<GoAuthAnswer>;
}

/**
 * mosquitto-go-auth: `user` verifies the password like the embedded broker; `superuser` always refuses
 * (Warden has no MQTT superusers: leave `auth_opt_http_superuser_uri` unset); `acl` decides `acc` 1 (delivery),
 * 2 (publish) and 4 (subscribe; a `$share/<group>/` prefix is stripped by the engine; a partially granted
 * filter is accepted, as every delivery is asked about). go-auth sends neither
 * QoS nor retain, so a request is allowed only when the rules allow it at every QoS and retain flag. go-auth
 * has no API: changes apply at its next request (after its own cache, `auth_opt_acl_cache_seconds`).
 */
export function createGoAuthIntegration(deps: {
  name: string;
  settings: GoAuthSettings;
  services: HookServices;
  context: IntegrationContext;
}): GoAuthIntegration {
  const { services } = deps;
  return {
    ...hookBase({
      name: deps.name,
      kind: 'go-auth',
      hook: deps.settings.hook,
      context: deps.context,
      nothingToSync:
        'mosquitto-go-auth has no API: changes apply at its next request, after auth_opt_acl_cache_seconds',
    }),
    kind: 'go-auth',
    responseMode: deps.settings.responseMode,

    async user(body) {
      const result = await services.mqttAuth.authenticate({
        username: body.username,
        password: Buffer.from(body.password, 'utf8'),
        clientId: body.clientid ?? '',
        // go-auth does not pass the device's address; the broker's own would throttle every device at once.
        ip: '',
      });
      return result.ok ? { ok: true } : { ok: false, error: 'invalid credentials' };
    },

    superuser() {
      return { ok: false, error: 'Warden has no MQTT superusers' };
    },

    async acl(body) {
      const action = GO_AUTH_ACTION_OF_ACC[body.acc];
      if (action === undefined) return { ok: false, error: `unsupported acc ${body.acc}` };
      // Mosquitto asks go-auth about every delivery (`acc` 1), so a partially granted subscription is safe.
      const decision = await decideForAnyQos(
        services,
        body.username,
        body.clientid || null,
        { action, topic: body.topic },
        true,
      );
      return decision.accepted ? { ok: true } : { ok: false, error: `not authorized (${decision.reason})` };
    },
  };
}
