import type { DomainEventBus, DomainEvents } from '../../core/events.js';
import {
  type AccessDecision,
  type AccessRequest,
  type CompiledHttpRules,
  CompiledRuleCache,
  type CompiledRuleSet,
  compileHttpRules,
  compileRoles,
  decide,
  decideHttp,
  expandHttpRulePath,
  explain,
  filtersIntersect,
  type HttpDecision,
  type HttpRequest,
  isHttpRule,
  validateTopicName,
} from '../access-engine/index.js';
import { type RoleData, toMqttRuleJson, toRuleJson } from '../access-roles/access-roles.service.js';
import { userError } from '../users/users.errors.js';
import type { UserRow } from '../users/users.table.js';
import type {
  EffectiveAccess,
  ExplainInput,
  Explanation,
  HttpExplainInput,
  MqttExplainInput,
} from './access.schemas.js';

/** What MQTT decisions for one user are made with: its identity and its compiled, ordered role list. */
export interface AccessSubject {
  readonly userId: string;
  /** The stored spelling: `${username}` expands to it whatever case the client logged in with. */
  readonly username: string;
  readonly roles: ReadonlyArray<{ readonly name: string; readonly version: number }>;
  readonly compiled: CompiledRuleSet;
  /** The same roles' HTTP rules, for forward-auth (docs/forward-auth.md). */
  readonly http: CompiledHttpRules;
}

/** A subject was re-read or revoked (`null`: the user is deactivated or deleted). */
export interface SubjectChange {
  readonly username: string;
  readonly subject: AccessSubject | null;
}

/** A decision about a user who exists but is deactivated: everything is denied. */
export interface InactiveDecision {
  readonly allowed: false;
  readonly reason: 'user_inactive';
}
export type SubjectDecision = AccessDecision | InactiveDecision;
export type SubjectHttpDecision = HttpDecision | InactiveDecision;
const INACTIVE: InactiveDecision = Object.freeze({ allowed: false, reason: 'user_inactive' });

/** What the access service needs from users and access roles (their services, not their tables). */
export interface AccessServiceDeps {
  users: { findRow(username: string): Promise<UserRow | undefined> };
  accessRoles: {
    roleIdsOf(userId: string): Promise<string[]>;
    rolesByIds(ids: readonly string[]): Promise<RoleData[]>;
    roleByName(name: string): Promise<RoleData | undefined>;
  };
  /** Distinct role lists kept compiled; users holding the same list share one entry. */
  maxCompiledSets?: number;
}

interface UserEntry {
  readonly userId: string;
  readonly username: string;
  readonly active: boolean;
  roleIds: readonly string[];
  subject: AccessSubject | null;
}

export type AccessService = ReturnType<typeof createAccessService>;

const key = (username: string): string => username.toLowerCase();

const USERNAME_TOKEN = '${username}';
const CLIENTID_TOKEN = '${clientid}';

/** Whether a value may stand in for a placeholder: a single, wildcard-free level (as the engine requires). */
function isPlaceholderValue(value: string): boolean {
  return !value.includes('/') && validateTopicName(value) === null;
}

/** A stored rule topic with the placeholders this identity can fill in; `applicable` false if one cannot be. */
function expandForDisplay(
  topic: string,
  username: string,
  clientid: string | null,
): { topic: string; applicable: boolean } {
  const withUser = topic.replaceAll(USERNAME_TOKEN, username);
  if (clientid === null || !withUser.includes(CLIENTID_TOKEN)) return { topic: withUser, applicable: true };
  if (!isPlaceholderValue(clientid)) return { topic: withUser, applicable: false };
  return { topic: withUser.replaceAll(CLIENTID_TOKEN, clientid), applicable: true };
}

/** What a rule of the effective list needs for {@link subscriptionCarveOuts}. */
interface ListedRule {
  readonly role: string;
  readonly ruleIndex: number;
  readonly permission: 'allow' | 'deny';
  readonly action: 'publish' | 'subscribe' | 'all';
  readonly topic: string;
  readonly applicable: boolean;
}

/**
 * For an allow rule that governs subscriptions: the earlier deny rules for subscriptions whose topics meet its
 * own, so that subscribing to its filter is partially granted. Placeholders left unexpanded (no client id
 * given) compare as literal text: a display hint, not a decision (decisions come from the engine).
 */
function subscriptionCarveOuts(
  rules: readonly ListedRule[],
  position: number,
): Array<{ role: string; ruleIndex: number; topic: string }> {
  const rule = rules[position] as ListedRule;
  if (rule.permission !== 'allow' || rule.action === 'publish' || !rule.applicable) return [];
  return rules
    .slice(0, position)
    .filter(
      (earlier) =>
        earlier.permission === 'deny' &&
        earlier.action !== 'publish' &&
        earlier.applicable &&
        filtersIntersect(earlier.topic, rule.topic),
    )
    .map(({ role, ruleIndex, topic }) => ({ role, ruleIndex, topic }));
}

function explainMqtt(subject: AccessSubject, input: MqttExplainInput): Explanation {
  const decision = explain(
    subject.compiled,
    { username: subject.username, clientid: input.clientid ?? null },
    {
      action: input.action,
      topic: input.topic,
      ...(input.qos === undefined ? {} : { qos: input.qos }),
      ...(input.retain === undefined ? {} : { retain: input.retain }),
    },
  );
  return {
    decision: decision.allowed ? 'allow' : decision.reason === 'partial' ? 'partial' : 'deny',
    reason: decision.reason,
    ...(decision.rule ? { rule: toRuleJson(decision.rule) } : {}),
    ...(decision.role === undefined ? {} : { role: decision.role }),
    ...(decision.ruleIndex === undefined ? {} : { ruleIndex: decision.ruleIndex }),
    ...(decision.expandedTopic === undefined ? {} : { expandedTopic: decision.expandedTopic }),
    ...(decision.placeholders === undefined ? {} : { placeholders: { ...decision.placeholders } }),
    ...(decision.carveOuts === undefined
      ? {}
      : {
          carveOuts: decision.carveOuts.map((carveOut) => ({
            ...carveOut,
            rule: toMqttRuleJson(carveOut.rule),
          })),
        }),
  };
}

function explainHttp(subject: AccessSubject, input: HttpExplainInput): Explanation {
  const decision = decideHttp(subject.http, { username: subject.username }, input);
  return {
    decision: decision.allowed ? 'allow' : 'deny',
    reason: decision.reason,
    ...(decision.rule
      ? {
          rule: toRuleJson(decision.rule),
          expandedPath: expandHttpRulePath(decision.rule.path, subject.username),
        }
      : {}),
    ...(decision.role === undefined ? {} : { role: decision.role }),
    ...(decision.ruleIndex === undefined ? {} : { ruleIndex: decision.ruleIndex }),
    ...(decision.canonicalPath === undefined ? {} : { canonicalPath: decision.canonicalPath }),
    ...(decision.pathError === undefined ? {} : { pathError: decision.pathError }),
  };
}

/**
 * Per-user compiled rule sets for live decisions (docs/access-rules.md): the embedded broker asks `peek` on its hot path,
 * everything else `subject`/`decide`/`explain`. Compiled sets are cached by ordered role list and the roles'
 * versions, so every user holding the same list shares one. Once started, entries follow `user.changed` and
 * `access_role.changed` as they are emitted: revocations apply at once, re-reads replace an entry only when
 * done (decisions never see a gap), and every change is announced through `onSubjectChange`.
 */
export function createAccessService(deps: AccessServiceDeps) {
  /** A role list's MQTT rules and HTTP rules, compiled together (they change together). */
  const compiledSets = new CompiledRuleCache<{ mqtt: CompiledRuleSet; http: CompiledHttpRules }>({
    maxEntries: deps.maxCompiledSets ?? 10_000,
  });
  /** Roles by id; a role's data only ever moves to a higher version. */
  const roles = new Map<string, RoleData>();
  /** Loaded users by lower-case username. Bounded by the user count; deleted users are removed. */
  const entries = new Map<string, UserEntry>();
  const loading = new Map<string, Promise<UserEntry | null>>();
  /**
   * Bumped when a change arrives, so a load that read the database before that change committed is not stored
   * over the newer state (it retries instead).
   */
  const userEpochs = new Map<string, number>();
  let roleEpoch = 0;
  /** Whether `start` subscribed to changes; until then nothing read is kept. */
  let following = false;
  const listeners = new Set<(change: SubjectChange) => void | Promise<void>>();
  /**
   * Cache updates in flight. Reads through `entryFor` wait for them, so whoever made a change (API, CLI) reads
   * its own write; the broker's synchronous `peek` keeps answering from the previous state meanwhile.
   */
  const refreshing = new Set<Promise<unknown>>();
  function tracked<T>(work: Promise<T>): Promise<T> {
    refreshing.add(work);
    const settle = (): void => {
      refreshing.delete(work);
    };
    work.then(settle, settle);
    return work;
  }

  function storeRole(role: RoleData): void {
    const current = roles.get(role.id);
    if (!current || current.version < role.version) roles.set(role.id, role);
  }

  function compose(entry: Pick<UserEntry, 'userId' | 'username' | 'roleIds'>): AccessSubject {
    const held = entry.roleIds.flatMap((id) => {
      const role = roles.get(id);
      return role ? [role] : [];
    });
    const cacheKey = held.map((role) => role.id).join(',');
    // For a fixed list of role ids every version only grows, so their sum names this exact state of the list.
    const version = held.reduce((sum, role) => sum + role.version, 0);
    const roleRules = held.map((role) => ({ name: role.name, rules: role.rules }));
    const compiled =
      compiledSets.get(cacheKey, version) ??
      compiledSets.set(cacheKey, version, {
        mqtt: compileRoles(roleRules),
        http: compileHttpRules(roleRules),
      });
    return {
      userId: entry.userId,
      username: entry.username,
      roles: held.map((role) => ({ name: role.name, version: role.version })),
      compiled: compiled.mqtt,
      http: compiled.http,
    };
  }

  async function readEntry(username: string): Promise<UserEntry | null> {
    const row = await deps.users.findRow(username);
    if (!row) return null;
    const roleIds = await deps.accessRoles.roleIdsOf(row.id);
    // Role data not followed may be stale: then every role is read again (versions only grow).
    const wanted = following ? roleIds.filter((id) => !roles.has(id)) : roleIds;
    for (const role of await deps.accessRoles.rolesByIds(wanted)) storeRole(role);
    const entry: UserEntry = {
      userId: row.id,
      username: row.username,
      active: row.active === 1,
      roleIds,
      subject: null,
    };
    if (entry.active) entry.subject = compose(entry);
    return entry;
  }

  /** Reads a user and stores the entry, retrying while changes for it arrive meanwhile. */
  async function load(username: string): Promise<UserEntry | null> {
    const k = key(username);
    for (let attempt = 0; ; attempt++) {
      const userEpoch = userEpochs.get(k) ?? 0;
      const rolesAt = roleEpoch;
      const entry = await readEntry(username);
      const stable = (userEpochs.get(k) ?? 0) === userEpoch && roleEpoch === rolesAt;
      // Only a cache that follows changes may keep what it read (a CLI process reads afresh every time).
      if (stable && following) {
        if (entry) entries.set(k, entry);
        else entries.delete(k);
      }
      if (stable || attempt >= 3) return entry;
    }
  }

  async function entryFor(username: string): Promise<UserEntry | null> {
    if (refreshing.size > 0) await Promise.allSettled([...refreshing]);
    const k = key(username);
    const cached = entries.get(k);
    if (cached) return cached;
    let pending = loading.get(k);
    if (!pending) {
      pending = load(username).finally(() => loading.delete(k));
      loading.set(k, pending);
    }
    return pending;
  }

  function forget(): void {
    roleEpoch += 1;
    entries.clear();
    roles.clear();
  }

  async function notify(change: SubjectChange): Promise<void> {
    for (const listener of listeners) await listener(change);
  }

  /** Applies a user change to the cache; returns what to announce (nothing for users nobody loaded). */
  async function applyUserChange({
    username,
    change,
  }: DomainEvents['user.changed']): Promise<SubjectChange | null> {
    const k = key(username);
    userEpochs.set(k, (userEpochs.get(k) ?? 0) + 1);
    const cached = entries.get(k);
    if (change === 'deleted' || change === 'deactivated') {
      // Revocation is synchronous: from this line on every decision for the user denies.
      if (change === 'deleted') entries.delete(k);
      else if (cached) cached.subject = null;
      return { username, subject: null };
    }
    // A password change leaves the rules alone (the broker closes the connections itself); a user nobody has
    // asked about yet is read when first needed.
    if (change === 'password' || !cached) return null;
    try {
      const entry = await load(username);
      return { username, subject: entry?.subject ?? null };
    } catch (error) {
      // Fail closed: without an entry the broker denies deliveries and re-reads the user on its next request.
      entries.delete(k);
      throw error;
    }
  }

  /** Applies a role change to the cache and recompiles its holders; returns what to announce. */
  async function applyRoleChange({
    name,
    change,
  }: DomainEvents['access_role.changed']): Promise<SubjectChange[]> {
    roleEpoch += 1;
    if (change === 'created') return [];
    const lower = name.toLowerCase();
    const previous = [...roles.values()].find((role) => role.name.toLowerCase() === lower);
    const holding = (roleId: string | undefined): UserEntry[] =>
      roleId === undefined ? [] : [...entries.values()].filter((entry) => entry.roleIds.includes(roleId));
    let roleId = previous?.id;
    if (change === 'deleted') {
      if (roleId) roles.delete(roleId);
    } else {
      try {
        const fresh = await deps.accessRoles.roleByName(name);
        if (fresh) {
          storeRole(fresh);
          roleId = fresh.id;
        }
      } catch (error) {
        for (const entry of holding(roleId)) entries.delete(key(entry.username));
        throw error;
      }
    }
    const affected = holding(roleId);
    for (const entry of affected) {
      if (change === 'deleted') entry.roleIds = entry.roleIds.filter((id) => id !== roleId);
      if (entry.subject) entry.subject = compose(entry);
    }
    return affected.map((entry) => ({ username: entry.username, subject: entry.subject }));
  }

  return {
    /**
     * Follows committed changes of users and access roles, keeping the cache exact. Started by the server (and
     * tests that exercise live decisions), never by construction; returns the stop function.
     */
    start(events: DomainEventBus): () => void {
      following = true;
      const offUsers = events.on('user.changed', async (event) => {
        const change = await tracked(applyUserChange(event));
        if (change) await notify(change);
      });
      const offRoles = events.on('access_role.changed', async (event) => {
        for (const change of await tracked(applyRoleChange(event))) await notify(change);
      });
      // Changes may have been missed: forget everything; loads in flight do not store what they read.
      const offReset = events.on('feed.reset', forget);
      return () => {
        following = false;
        forget();
        offUsers();
        offRoles();
        offReset();
      };
    },

    /**
     * The subject as currently known, without I/O: `undefined` when the user was not loaded yet, `null` when it
     * is inactive or gone. The broker's synchronous delivery check uses this.
     */
    peek(username: string): AccessSubject | null | undefined {
      const entry = entries.get(key(username));
      return entry === undefined ? undefined : entry.subject;
    },

    /** The subject, read from the database when not loaded; null for unknown and inactive users. */
    async subject(username: string): Promise<AccessSubject | null> {
      return (await entryFor(username))?.subject ?? null;
    },

    /** Decides one request for a user; unknown and deactivated users are denied with reason `user_inactive`. */
    async decide(
      username: string,
      clientid: string | null,
      request: AccessRequest,
    ): Promise<SubjectDecision> {
      const subject = (await entryFor(username))?.subject ?? null;
      if (!subject) return INACTIVE;
      return decide(subject.compiled, { username: subject.username, clientid }, request);
    },

    /**
     * Decides one forwarded HTTP request for a user (forward-auth); unknown and deactivated users are denied
     * with reason `user_inactive`.
     */
    async decideHttp(username: string, request: HttpRequest): Promise<SubjectHttpDecision> {
      const subject = (await entryFor(username))?.subject ?? null;
      if (!subject) return INACTIVE;
      return decideHttp(subject.http, { username: subject.username }, request);
    },

    /**
     * The decision with the deciding rule and its role: for MQTT with the expanded topic, for HTTP with the
     * expanded path and the path as the matcher saw it (404 for an unknown user).
     */
    async explain(input: ExplainInput): Promise<Explanation> {
      const entry = await entryFor(input.username);
      if (!entry) throw userError('user.not_found', `No user named "${input.username}"`);
      if (!entry.subject) return { decision: 'deny', reason: 'user_inactive' };
      return input.action === 'http' ? explainHttp(entry.subject, input) : explainMqtt(entry.subject, input);
    },

    /** A user's merged rules in evaluation order, placeholders expanded for it (404 for an unknown user). */
    async effectiveAccess(username: string, clientid: string | null): Promise<EffectiveAccess> {
      const entry = await entryFor(username);
      if (!entry) throw userError('user.not_found', `No user named "${username}"`);
      const held = entry.roleIds.flatMap((id) => {
        const role = roles.get(id);
        return role ? [role] : [];
      });
      const rules = held.flatMap((role) =>
        role.rules.flatMap((rule, ruleIndex) =>
          isHttpRule(rule)
            ? []
            : [
                {
                  role: role.name,
                  ruleIndex,
                  permission: rule.permission,
                  action: rule.action,
                  ...expandForDisplay(rule.topic, entry.username, clientid),
                  ruleTopic: rule.topic,
                  ...(rule.qos === undefined ? {} : { qos: [...rule.qos] }),
                  ...(rule.retain === undefined ? {} : { retain: rule.retain }),
                },
              ],
        ),
      );
      const httpRules = held.flatMap((role) =>
        role.rules.flatMap((rule, ruleIndex) =>
          isHttpRule(rule)
            ? [
                {
                  role: role.name,
                  ruleIndex,
                  permission: rule.permission,
                  ...(rule.methods === undefined ? {} : { methods: [...rule.methods] }),
                  path: expandHttpRulePath(rule.path, entry.username),
                  rulePath: rule.path,
                },
              ]
            : [],
        ),
      );
      return {
        username: entry.username,
        active: entry.active && entry.subject !== null,
        clientid,
        roles: held.map((role) => ({ name: role.name, version: role.version })),
        rules: rules.map((rule, position) => {
          const carveOuts = subscriptionCarveOuts(rules, position);
          return carveOuts.length > 0 ? { ...rule, carveOuts } : rule;
        }),
        httpRules,
      };
    },

    /**
     * Calls `listener` after a user's subject was re-read or revoked, awaiting it; a rejection reaches the event
     * bus's error report. Returns the unsubscribe function.
     */
    onSubjectChange(listener: (change: SubjectChange) => void | Promise<void>): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
