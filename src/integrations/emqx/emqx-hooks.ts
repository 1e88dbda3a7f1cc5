import { type Static, Type } from 'typebox';
import type { SubjectDecision } from '../../modules/access/access.service.js';
import { acceptsSubscription } from '../../modules/access-engine/index.js';
import { decideNow, type HookServices } from '../hooks/hook-integration.js';
import { type EmqxAclRule, emqxAcl } from './emqx-acl.js';

/**
 * EMQX 5 HTTP authentication and authorization (docs/broker-protocols.md#emqx-http-authentication and
 * #emqx-http-authorization). EMQX renders every body field as a string (`""` when undefined); other fields a
 * template adds (peerhost, cert_common_name…) are accepted and ignored. Warden always answers 200 with an
 * explicit `result`: it never relies on EMQX reading an error status as "ignore" (EMQX 6 may read it as
 * deny).
 */

export const EmqxAuthnBody = Type.Object(
  {
    username: Type.String({ maxLength: 65535 }),
    password: Type.String({ maxLength: 65535 }),
    clientid: Type.String({ maxLength: 65535 }),
    peerhost: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: true },
);
export type EmqxAuthnRequest = Static<typeof EmqxAuthnBody>;

export const EmqxAuthzBody = Type.Object(
  {
    username: Type.String({ maxLength: 65535 }),
    clientid: Type.String({ maxLength: 65535 }),
    topic: Type.String({ maxLength: 65535 }),
    action: Type.Optional(Type.String({ maxLength: 20, description: '`${action}`: publish or subscribe' })),
    access: Type.Optional(
      Type.String({ maxLength: 2, description: 'legacy `${access}`: 1 = subscribe, 2 = publish' }),
    ),
    qos: Type.Optional(Type.String({ maxLength: 2 })),
    retain: Type.Optional(Type.String({ maxLength: 5 })),
  },
  { additionalProperties: true },
);
export type EmqxAuthzRequest = Static<typeof EmqxAuthzBody>;

const ResultSchema = Type.Enum(['allow', 'deny', 'ignore'], { type: 'string' });

export const EmqxAuthnReply = Type.Object({
  result: ResultSchema,
  is_superuser: Type.Optional(Type.Boolean()),
  expire_at: Type.Optional(
    Type.Integer({ description: 'EMQX ≥ 5.8 closes the connection then (Unix seconds): a token expiry' }),
  ),
  acl: Type.Optional(
    Type.Array(
      Type.Object({
        permission: Type.String(),
        action: Type.String(),
        topic: Type.String(),
        qos: Type.Optional(Type.Array(Type.Integer())),
        retain: Type.Optional(Type.Boolean()),
      }),
    ),
  ),
});
export type EmqxAuthnResult = {
  result: 'allow' | 'deny' | 'ignore';
  is_superuser?: boolean;
  expire_at?: number;
  acl?: EmqxAclRule[];
};

export const EmqxAuthzReply = Type.Object({ result: ResultSchema });
export type EmqxAuthzResult = { result: 'allow' | 'deny' | 'ignore' };

/** Settings of the EMQX hooks. */
export interface EmqxHookSettings {
  /** Also return the user's publish rules as `acl` in the authn reply. */
  readonly authnAcl: boolean;
  /** Answer for users Warden does not know: `deny` stops EMQX's chain, `ignore` lets the next one decide. */
  readonly unknownUser: 'deny' | 'ignore';
}

const ALLOW: EmqxAuthzResult = Object.freeze({ result: 'allow' });
const DENY: EmqxAuthzResult = Object.freeze({ result: 'deny' });
const IGNORE: EmqxAuthzResult = Object.freeze({ result: 'ignore' });

/**
 * `POST /api/v1/hooks/emqx/authn`: verifies the password like the embedded broker (argon2 pool, credential
 * cache, throttling, audit), or the JWT in the password field (docs/mqtt-tokens.md). Success answers `allow` with
 * `is_superuser: false` (Warden has no MQTT superusers), `expire_at` for a credential with an end (a token's
 * expiry) and, when enabled, the `acl`; any refusal answers `deny` (unknown users: per `unknownUser`).
 */
export async function emqxAuthenticate(
  services: HookServices,
  settings: EmqxHookSettings,
  body: EmqxAuthnRequest,
): Promise<EmqxAuthnResult> {
  if (settings.unknownUser === 'ignore' && !(await services.userExists(body.username)))
    return { result: 'ignore' };
  const result = await services.mqttAuth.authenticate({
    username: body.username,
    password: Buffer.from(body.password, 'utf8'),
    clientId: body.clientid,
    ip: body.peerhost ?? '',
  });
  if (!result.ok) return { result: 'deny' };
  // A credential with an end (a token, a previous secret in its grace period): EMQX closes the connection then.
  const allow: EmqxAuthnResult =
    result.validUntil === null
      ? { result: 'allow', is_superuser: false }
      : { result: 'allow', is_superuser: false, expire_at: Math.floor(result.validUntil / 1000) };
  if (!settings.authnAcl) return allow;
  const acl = emqxAcl(await services.access.effectiveAccess(result.user.username, body.clientid), {
    username: body.username,
    clientid: body.clientid,
  });
  return acl === null ? allow : { ...allow, acl };
}

/** What an authorization request asks about (`${action}`, or the legacy `${access}`); null when unreadable. */
export function emqxActionOf(body: EmqxAuthzRequest): 'publish' | 'subscribe' | null {
  const action =
    body.action ?? (body.access === '1' ? 'subscribe' : body.access === '2' ? 'publish' : undefined);
  return action === 'publish' || action === 'subscribe' ? action : null;
}

function qosOf(value: string | undefined): 0 | 1 | 2 | null {
  if (value === undefined || value === '' || value === '0') return 0;
  return value === '1' ? 1 : value === '2' ? 2 : null;
}

/**
 * `POST /api/v1/hooks/emqx/authz`: one publish or subscribe check (EMQX has no delivery check; it strips
 * `$share/<group>/` before asking). Values Warden cannot read (unknown action, QoS "7") answer `deny`.
 * Synchronous while the user's rules are loaded: this is the hottest path Warden serves.
 */
export function emqxAuthorize(
  services: HookServices,
  settings: EmqxHookSettings,
  body: EmqxAuthzRequest,
): EmqxAuthzResult | Promise<EmqxAuthzResult> {
  const action = emqxActionOf(body);
  const qos = qosOf(body.qos);
  if (action === null || qos === null) return DENY;
  const decision = decideNow(services, body.username, body.clientid === '' ? null : body.clientid, {
    action,
    topic: body.topic,
    qos,
    retain: body.retain === 'true',
  });
  if (decision instanceof Promise)
    return decision.then((outcome) => authzResult(services, settings, body, outcome));
  return authzResult(services, settings, body, decision);
}

function authzResult(
  services: HookServices,
  settings: EmqxHookSettings,
  body: EmqxAuthzRequest,
  outcome: SubjectDecision,
): EmqxAuthzResult | Promise<EmqxAuthzResult> {
  // EMQX never checks deliveries: a partially granted subscription would deliver its carve-outs, so it is refused.
  if (acceptsSubscription(outcome, false)) return ALLOW;
  if (outcome.reason !== 'user_inactive' || settings.unknownUser !== 'ignore') return DENY;
  return services.userExists(body.username).then((exists) => (exists ? DENY : IGNORE));
}
