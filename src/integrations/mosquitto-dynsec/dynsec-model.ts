/**
 * Warden's users and access rules expressed in Mosquitto 2.0 dynamic-security terms
 * (docs/broker-protocols.md#dynsec-acl-evaluation). Pure: the desired broker state is computed from the
 * directory, then diffed against what the broker holds.
 *
 * Mapping (docs/brokers.md#what-warden-manages):
 * - access role `R` without placeholders → dynsec role `warden-role-R`; a user → client with its roles, in
 *   order, as client roles with descending priorities;
 * - a user holding any role with `${username}` / `${clientid}` gets one per-user role `warden-user-<name>`
 *   holding all its rules, expanded (2.0 has no `%u`/`%c`), instead of the shared roles;
 * - an inactive user → a disabled client without roles;
 * - `publish` → publishClientSend; `subscribe` → subscribePattern (plus `$share/+/<filter>`, since Mosquitto
 *   checks shared subscriptions on the full string) and publishClientReceive; `all` → all of them;
 * - rule order → unique descending ACL priorities; conditions dynsec cannot check (QoS lists, retain) fail
 *   closed: such an allow is left out, such a deny applies unconditionally.
 */

import type { AccessRule } from '../../modules/access-engine/index.js';
import type { DirectoryRole, DirectoryUser } from '../broker-integration.js';

/** Marks the clients Warden manages (clients outside it, like the admin, are never touched). */
export const MANAGED_GROUP = 'warden';
export const ROLE_PREFIX = 'warden-role-';
export const USER_ROLE_PREFIX = 'warden-user-';

export type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribePattern';

export interface DynsecAcl {
  readonly acltype: string;
  readonly topic: string;
  readonly priority: number;
  readonly allow: boolean;
}

export interface DynsecRole {
  readonly rolename: string;
  readonly textname: string;
  readonly textdescription: string;
  readonly acls: readonly DynsecAcl[];
}

export interface DynsecRoleLink {
  readonly rolename: string;
  readonly priority: number;
}

export interface DynsecClientEntry {
  readonly username: string;
  /** The only client id the client may connect with; null = any. */
  readonly clientid: string | null;
  readonly textname: string;
  readonly textdescription: string;
  readonly disabled: boolean;
  readonly roles: readonly DynsecRoleLink[];
  /** Member of {@link MANAGED_GROUP}. */
  readonly managed: boolean;
}

/** The four default-access switches; Warden's model is a whitelist, so only unsubscribe is open by default. */
export const WARDEN_DEFAULT_ACL: Readonly<Record<string, boolean>> = Object.freeze({
  publishClientSend: false,
  publishClientReceive: false,
  subscribe: false,
  unsubscribe: true,
});

/**
 * How `${clientid}` rules reach Mosquitto 2.0, which cannot substitute it:
 * - `none`: the client id is unknown, so allow rules using it are left out and deny rules apply to every id
 *   (the level becomes `+`);
 * - `username`: every client may only connect with client id = username (dynsec `clientid`), so
 *   `${clientid}` expands to the username.
 */
export type ClientIdBinding = 'none' | 'username';
export const CLIENT_ID_BINDINGS: readonly ClientIdBinding[] = ['none', 'username'];

export interface MappingOptions {
  readonly clientIdBinding: ClientIdBinding;
  /** The dynsec admin: never mirrored, even if a Warden user has the same name. */
  readonly adminUsername: string;
}

const USERNAME = '${username}';
const CLIENTID = '${clientid}';
const ALL_QOS = [0, 1, 2] as const;

export function rulesHavePlaceholders(rules: readonly AccessRule[]): boolean {
  return rules.some((rule) => rule.topic.includes(USERNAME) || rule.topic.includes(CLIENTID));
}

export function sharedRoleName(role: string): string {
  return `${ROLE_PREFIX}${role}`;
}

export function userRoleName(username: string): string {
  return `${USER_ROLE_PREFIX}${username}`;
}

export function isManagedRole(rolename: string): boolean {
  return rolename.startsWith(ROLE_PREFIX) || rolename.startsWith(USER_ROLE_PREFIX);
}

/** Where a rule comes from, for warnings that name it once (not once per user). */
interface RuleOrigin {
  readonly role: string;
  readonly index: number;
}

function describe(rule: AccessRule, origin: RuleOrigin): string {
  const qos = rule.qos ? ` qos=${rule.qos.join(',')}` : '';
  const retain = rule.retain === undefined ? '' : ` retain=${rule.retain}`;
  return `role ${origin.role} rule ${origin.index} (${rule.permission} ${rule.action} ${rule.topic}${qos}${retain})`;
}

/**
 * The rule's topic for this identity: placeholders expanded; a `${clientid}` nobody can know becomes a `+`
 * level for a deny (denies at least as much) and drops an allow (allows at most as much). Null = leave out.
 */
function mappedTopic(
  rule: AccessRule,
  identity: { username: string; clientid: string | null } | null,
  note: (text: string) => void,
  origin: RuleOrigin,
): string | null {
  if (identity === null) return rule.topic;
  let topic = rule.topic.replaceAll(USERNAME, identity.username);
  if (!topic.includes(CLIENTID)) return topic;
  if (identity.clientid !== null) return topic.replaceAll(CLIENTID, identity.clientid);
  if (rule.permission === 'allow') {
    note(`${describe(rule, origin)}: \${clientid} is unknown without a bound client id; allow left out`);
    return null;
  }
  note(
    `${describe(rule, origin)}: \${clientid} is unknown without a bound client id; deny applies to every id`,
  );
  topic = topic
    .split('/')
    .map((level) => (level.includes(CLIENTID) ? '+' : level))
    .join('/');
  return topic;
}

/**
 * ACLs for an ordered rule list: the first ACL for a given (type, topic) wins (dynsec allows one per role, and
 * later ones could never decide), and priorities descend from the count, so rule order is evaluation order.
 * `identity` expands placeholders (per-user roles); null keeps the topics as they are (shared roles, which
 * never hold placeholders). `note` receives one message per rule that cannot be mirrored exactly.
 */
export function aclsForRules(
  rules: ReadonlyArray<{ rule: AccessRule; origin: RuleOrigin }>,
  identity: { username: string; clientid: string | null } | null,
  note: (text: string) => void,
): DynsecAcl[] {
  const ordered: Array<{ acltype: AclType; topic: string; allow: boolean }> = [];
  const seen = new Set<string>();
  for (const { rule, origin } of rules) {
    if (rule.qos !== undefined && rule.qos.length === 0) continue;
    const topic = mappedTopic(rule, identity, note, origin);
    if (topic === null) continue;
    const allow = rule.permission === 'allow';
    const qosLimited = rule.qos !== undefined && !ALL_QOS.every((level) => rule.qos?.includes(level));
    const messageLimited = qosLimited || rule.retain !== undefined;
    const emit = (acltype: AclType, aclTopic: string, conditional: boolean): void => {
      if (conditional && allow) return;
      const key = `${acltype}\u0000${aclTopic}`;
      if (seen.has(key)) return;
      seen.add(key);
      ordered.push({ acltype, topic: aclTopic, allow });
    };
    if (messageLimited) {
      note(
        `${describe(rule, origin)}: dynsec cannot check QoS or retain; ${allow ? 'allow left out' : 'deny applies unconditionally'}`,
      );
    }
    if (rule.action === 'publish' || rule.action === 'all') emit('publishClientSend', topic, messageLimited);
    if (rule.action === 'subscribe' || rule.action === 'all') {
      emit('subscribePattern', topic, qosLimited);
      emit('subscribePattern', `$share/+/${topic}`, qosLimited);
      emit('publishClientReceive', topic, messageLimited);
    }
  }
  return ordered.map((acl, index) => ({ ...acl, priority: ordered.length - index }));
}

function withOrigins(role: DirectoryRole): Array<{ rule: AccessRule; origin: RuleOrigin }> {
  return role.rules.map((rule, index) => ({ rule, origin: { role: role.name, index } }));
}

/** The shared dynsec role of an access role, or null when it uses placeholders (then per-user roles apply). */
export function sharedRole(role: DirectoryRole, note: (text: string) => void): DynsecRole | null {
  if (rulesHavePlaceholders(role.rules)) return null;
  return {
    rolename: sharedRoleName(role.name),
    textname: `Warden access role ${role.name}`,
    textdescription: role.description,
    acls: aclsForRules(withOrigins(role), null, note),
  };
}

/** What one user should look like on the broker: its client and, when needed, its per-user role. */
export interface DesiredUser {
  readonly client: DynsecClientEntry;
  readonly userRole: DynsecRole | null;
}

/**
 * The client (and per-user role) for a user; null for the dynsec admin's name, which Warden never manages.
 * Roles the directory does not know are skipped.
 */
export function desiredUser(
  user: DirectoryUser,
  rolesByName: ReadonlyMap<string, DirectoryRole>,
  options: MappingOptions,
  note: (text: string) => void,
): DesiredUser | null {
  if (user.username === options.adminUsername) {
    note(`user ${user.username} has the dynsec admin's name and is not mirrored`);
    return null;
  }
  // An inactive user's client is disabled and holds no roles: Mosquitto skips the password check — and with it
  // the disabled flag — for a listener with `use_identity_as_username` (docs/certificates.md#mosquitto), where
  // a roleless client gets only the default access, which denies everything.
  const held = (user.active ? user.accessRoles : []).flatMap((name) => {
    const role = rolesByName.get(name.toLowerCase());
    return role ? [role] : [];
  });
  const clientid = options.clientIdBinding === 'username' ? user.username : null;
  const perUser = held.some((role) => rulesHavePlaceholders(role.rules));
  const userRole: DynsecRole | null = perUser
    ? {
        rolename: userRoleName(user.username),
        textname: `Warden rules of ${user.username}`,
        textdescription: `Access roles ${held.map((role) => role.name).join(', ')} expanded for ${user.username}`,
        acls: aclsForRules(held.flatMap(withOrigins), { username: user.username, clientid }, note),
      }
    : null;
  const links: DynsecRoleLink[] = userRole
    ? [{ rolename: userRole.rolename, priority: 1 }]
    : held.map((role, index) => ({ rolename: sharedRoleName(role.name), priority: held.length - index }));
  return {
    client: {
      username: user.username,
      clientid,
      textname: user.username,
      textdescription: user.description,
      disabled: !user.active,
      roles: links,
      managed: true,
    },
    userRole,
  };
}

/** Directory roles keyed by lower-case name (role names are unique case-insensitively). */
export function indexRoles(roles: readonly DirectoryRole[]): Map<string, DirectoryRole> {
  return new Map(roles.map((role) => [role.name.toLowerCase(), role]));
}

/** The whole desired broker state. */
export interface DesiredState {
  readonly roles: ReadonlyMap<string, DynsecRole>;
  readonly clients: ReadonlyMap<string, DynsecClientEntry>;
  readonly warnings: string[];
}

/** Builds the desired state from every user and role; warnings are de-duplicated. */
export function desiredState(
  users: readonly DirectoryUser[],
  roles: readonly DirectoryRole[],
  options: MappingOptions,
): DesiredState {
  const warnings = new Set<string>();
  const note = (text: string): void => {
    warnings.add(text);
  };
  const rolesByName = indexRoles(roles);
  const desiredRoles = new Map<string, DynsecRole>();
  for (const role of roles) {
    const shared = sharedRole(role, note);
    if (shared) desiredRoles.set(shared.rolename, shared);
  }
  const clients = new Map<string, DynsecClientEntry>();
  for (const user of users) {
    const desired = desiredUser(user, rolesByName, options, note);
    if (!desired) continue;
    clients.set(desired.client.username, desired.client);
    if (desired.userRole) desiredRoles.set(desired.userRole.rolename, desired.userRole);
  }
  return { roles: desiredRoles, clients, warnings: [...warnings] };
}
