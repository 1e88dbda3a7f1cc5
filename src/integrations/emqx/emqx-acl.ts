import type { EffectiveAccess } from '../../modules/access/access.schemas.js';

/** One rule of the `acl` list in an EMQX authn reply (docs/broker-protocols.md#emqx-acl-list). */
export interface EmqxAclRule {
  readonly permission: 'allow' | 'deny';
  readonly action: 'publish';
  readonly topic: string;
  readonly qos?: number[];
  readonly retain?: boolean;
}

const USERNAME = '${username}';
const CLIENTID = '${clientid}';

/** Same check as the engine: a value may stand in for a placeholder only as one wildcard-free level. */
function expandable(value: string): boolean {
  return value.length > 0 && !['/', '+', '#', '\u0000'].some((forbidden) => value.includes(forbidden));
}

/**
 * The `acl` EMQX evaluates locally before asking the HTTP authz source
 * (docs/broker-protocols.md#emqx-acl-list). Only the publish side of the user's rules goes in, in order: a
 * published topic is a name, and EMQX matches names, QoS and retain exactly as Warden does, so the first
 * match there is Warden's. Subscriptions are left to the HTTP source, because EMQX matches a subscription
 * filter as if it were a name (ACL `a/+` would allow `a/#`) and has no delivery check to make up for it. No
 * match falls through to the HTTP source, which then denies like Warden. A leading `$SYS/#` deny keeps
 * Warden's "never publish to $SYS".
 *
 * Returns null — no `acl`, every check goes to the HTTP source — when EMQX would expand a placeholder
 * differently: it expands `${username}` to the name as the client typed it (Warden: as stored) and cannot
 * refuse a client id holding `/`, `+` or `#`; or when a topic starts with `eq ` (EMQX's literal-match prefix).
 */
export function emqxAcl(
  access: EffectiveAccess,
  login: { username: string; clientid: string },
): EmqxAclRule[] | null {
  const acl: EmqxAclRule[] = [{ permission: 'deny', action: 'publish', topic: '$SYS/#' }];
  for (const rule of access.rules) {
    if (rule.action === 'subscribe' || (rule.qos !== undefined && rule.qos.length === 0)) continue;
    const topic = rule.ruleTopic;
    if (topic.startsWith('eq ')) return null;
    if (topic.includes(USERNAME) && login.username !== access.username) return null;
    if (topic.includes(CLIENTID) && !expandable(login.clientid)) return null;
    acl.push({
      permission: rule.permission,
      action: 'publish',
      topic,
      ...(rule.qos === undefined ? {} : { qos: [...rule.qos] }),
      ...(rule.retain === undefined ? {} : { retain: rule.retain }),
    });
  }
  return acl;
}
