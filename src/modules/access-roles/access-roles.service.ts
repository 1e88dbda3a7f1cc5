import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import type { ProblemItem } from '../../core/errors/app-error.js';
import { coreError } from '../../core/errors/core-errors.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Engine } from '../../db/database.js';
import { isUniqueViolation } from '../../db/dialects/unique-violation.js';
import type { Database } from '../../db/schema.js';
import {
  type AccessRule,
  HTTP_METHODS,
  isHttpRule,
  type RoleRule,
  validateHttpRule,
  validateRule,
} from '../access-engine/index.js';
import { type AuditService, changedFields } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { accessRoleError } from './access-roles.errors.js';
import {
  assignedNamesByUser,
  assignedRoleIds,
  deleteAssignmentsOfRole,
  deleteRoleRow,
  findRoleByName,
  findRolesByIds,
  findRolesByNames,
  holderCounts,
  insertRole,
  listRoles,
  replaceAssignments,
  updateRole,
} from './access-roles.repository.js';
import {
  type AccessRoleList,
  type AccessRuleJson,
  type CreateAccessRoleInput,
  type ListAccessRolesInput,
  MAX_RULES_PER_ROLE,
  type MqttRuleJson,
  type PublicAccessRole,
  type UpdateAccessRoleInput,
} from './access-roles.schemas.js';
import type { AccessRoleRow } from './access-roles.table.js';

/** A role as the rule engine needs it: identity, version (for cache keys) and its ordered rules. */
export interface RoleData {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly rules: readonly RoleRule[];
}

export type AccessRolesService = ReturnType<typeof createAccessRolesService>;

function roleTarget(name: string): string {
  return `access_role:${name}`;
}

function parseRules(row: AccessRoleRow): AccessRuleJson[] {
  return JSON.parse(row.rules) as AccessRuleJson[];
}

/** A copy of an engine rule in the API's JSON shape. */
export function toRuleJson(rule: RoleRule): AccessRuleJson {
  if (isHttpRule(rule)) {
    return {
      permission: rule.permission,
      action: 'http',
      ...(rule.methods === undefined ? {} : { methods: [...rule.methods] }),
      path: rule.path,
    };
  }
  return toMqttRuleJson(rule);
}

/** A copy of an MQTT rule in the API's JSON shape. */
export function toMqttRuleJson(rule: AccessRule): MqttRuleJson {
  return {
    permission: rule.permission,
    action: rule.action,
    topic: rule.topic,
    ...(rule.qos === undefined ? {} : { qos: [...rule.qos] }),
    ...(rule.retain === undefined ? {} : { retain: rule.retain }),
  };
}

export function toRoleData(row: AccessRoleRow): RoleData {
  return { id: row.id, name: row.name, version: row.version, rules: parseRules(row) };
}

function toPublicRole(row: AccessRoleRow, userCount: number): PublicAccessRole {
  return {
    name: row.name,
    description: row.description,
    rules: parseRules(row),
    version: row.version,
    userCount,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/** A rule in its canonical shape: QoS levels sorted, methods de-duplicated in the order of HTTP_METHODS. */
function canonicalRule(rule: RoleRule): AccessRuleJson {
  const json = toRuleJson(rule);
  if (json.action === 'http') {
    if (json.methods) json.methods = HTTP_METHODS.filter((method) => json.methods?.includes(method));
  } else if (json.qos) {
    json.qos = [...new Set(json.qos)].sort((a, b) => a - b);
  }
  return json;
}

/**
 * Validates rules with the engine (MQTT rules with the MQTT engine, HTTP rules with the HTTP matcher) and stores
 * them in one canonical shape (known keys only, QoS and methods sorted), so that "did the rules change?" is a
 * string comparison. Every failing rule is reported with its index.
 */
export function normalizeRules(rules: readonly RoleRule[]): AccessRuleJson[] {
  if (rules.length > MAX_RULES_PER_ROLE) {
    throw accessRoleError(
      'access_role.too_many_rules',
      `A role holds at most ${MAX_RULES_PER_ROLE} rules, got ${rules.length}`,
    );
  }
  const errors: ProblemItem[] = [];
  const normalized = rules.map((rule, index): AccessRuleJson => {
    const error = isHttpRule(rule) ? validateHttpRule(rule) : validateRule(rule);
    if (error !== null) errors.push({ index, pointer: `/rules/${index}`, message: error });
    return error === null ? canonicalRule(rule) : toRuleJson(rule);
  });
  if (errors.length > 0) {
    throw accessRoleError(
      'access_role.invalid_rule',
      errors.length === 1 ? `Rule ${errors[0]?.index} is invalid` : `${errors.length} rules are invalid`,
      { errors },
    );
  }
  return normalized;
}

/**
 * Access roles (docs/mqtt.md#access-roles): named, ordered rule lists, and users' ordered assignments of
 * them. Every change is one transaction with its audit event; `access_role.changed` is emitted after commit
 * so the broker and the compiled-rule caches follow.
 */
export function createAccessRolesService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  audit: AuditService;
  /** Every change is recorded in its transaction; the feed carries it to every process. */
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
}) {
  const { db, engine, clock, audit } = deps;

  async function mustFind(
    trx: Kysely<Database>,
    name: string,
    lock: 'update' | null = null,
  ): Promise<AccessRoleRow> {
    const row = await findRoleByName(trx, name, lock ? { engine, mode: lock } : null);
    if (!row) throw accessRoleError('access_role.not_found', `No access role named "${name}"`);
    return row;
  }

  async function publicRole(trx: Kysely<Database>, row: AccessRoleRow): Promise<PublicAccessRole> {
    return toPublicRole(row, (await holderCounts(trx, [row.id])).get(row.id) ?? 0);
  }

  return {
    async list(input: ListAccessRolesInput): Promise<AccessRoleList> {
      const page = input.page ?? 1;
      const pageSize = input.pageSize ?? 25;
      const { rows, total } = await listRoles(db, { limit: pageSize, offset: (page - 1) * pageSize });
      const counts = await holderCounts(
        db,
        rows.map((row) => row.id),
      );
      return {
        items: rows.map((row) => toPublicRole(row, counts.get(row.id) ?? 0)),
        total,
        page,
        pageSize,
      };
    },

    async get(name: string): Promise<PublicAccessRole> {
      return publicRole(db, await mustFind(db, name));
    },

    async create(ctx: OperationContext, input: CreateAccessRoleInput): Promise<PublicAccessRole> {
      const rules = normalizeRules(input.rules ?? []);
      const now = clock.now();
      const created = await db
        .transaction()
        .execute(async (trx) => {
          if (await findRoleByName(trx, input.name)) {
            throw accessRoleError(
              'access_role.exists',
              `An access role named "${input.name}" already exists`,
            );
          }
          await insertRole(trx, {
            id: randomUUID(),
            name: input.name,
            name_lower: input.name.toLowerCase(),
            description: input.description ?? '',
            rules: JSON.stringify(rules),
            created_at: now,
            updated_at: now,
          });
          const role = await publicRole(trx, await mustFind(trx, input.name));
          const { createdAt: _c, updatedAt: _u, userCount: _n, ...snapshot } = role;
          await audit.record(trx, ctx, {
            action: 'access_role.create',
            target: roleTarget(role.name),
            details: { after: snapshot },
          });
          await deps.changes.record(trx, 'access_role.changed', { name: role.name, change: 'created' });
          return role;
        })
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) {
            throw accessRoleError(
              'access_role.exists',
              `An access role named "${input.name}" already exists`,
            );
          }
          throw error;
        });
      await deps.changes.settled();
      return created;
    },

    /** Replaces the rules (and the description when given). An unchanged role keeps its version. */
    async update(
      ctx: OperationContext,
      name: string,
      input: UpdateAccessRoleInput,
    ): Promise<PublicAccessRole> {
      const rules = normalizeRules(input.rules);
      const { role, changed } = await db.transaction().execute(async (trx) => {
        const current = await mustFind(trx, name, 'update');
        if (input.name !== undefined && input.name.toLowerCase() !== current.name_lower) {
          throw accessRoleError('access_role.name_immutable', 'Access-role names cannot be changed');
        }
        if (input.version !== undefined && input.version !== current.version) {
          throw accessRoleError(
            'access_role.version_conflict',
            `The role is at version ${current.version}, the update was made for version ${input.version}`,
          );
        }
        const description = input.description ?? current.description;
        const rulesJson = JSON.stringify(rules);
        if (description === current.description && rulesJson === current.rules) {
          return { role: await publicRole(trx, current), changed: false };
        }
        await updateRole(trx, current.id, { description, rules: rulesJson, updated_at: clock.now() });
        const updated = await publicRole(trx, await mustFind(trx, name));
        const before = toPublicRole(current, updated.userCount);
        await audit.record(trx, ctx, {
          action: 'access_role.update',
          target: roleTarget(current.name),
          details: {
            ...changedFields(before, updated, ['description', 'rules']),
            version: updated.version,
          },
        });
        await deps.changes.record(trx, 'access_role.changed', { name: updated.name, change: 'updated' });
        return { role: updated, changed: true };
      });
      if (changed) await deps.changes.settled();
      return role;
    },

    /** Deletes a role; one still held is refused (409) unless `force`, which first removes it from holders. */
    async remove(ctx: OperationContext, name: string, options: { force: boolean }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const current = await mustFind(trx, name, 'update');
        const holders = (await holderCounts(trx, [current.id])).get(current.id) ?? 0;
        if (holders > 0 && !options.force) {
          throw accessRoleError(
            'access_role.in_use',
            `${holders} user(s) hold "${current.name}"; remove it from them or delete with force`,
          );
        }
        if (holders > 0) await deleteAssignmentsOfRole(trx, current.id);
        await deleteRoleRow(trx, current.id);
        const { createdAt: _c, updatedAt: _u, userCount: _n, ...snapshot } = toPublicRole(current, holders);
        await audit.record(trx, ctx, {
          action: 'access_role.delete',
          target: roleTarget(current.name),
          details: { before: snapshot, assignmentsRemoved: holders },
        });
        await deps.changes.record(trx, 'access_role.changed', { name: current.name, change: 'deleted' });
      });
      await deps.changes.settled();
    },

    /**
     * Resolves a user's requested role list inside the caller's transaction, in order. Unknown names answer
     * 400 access_role.unknown; on PostgreSQL the roles stay share-locked until commit so a concurrent delete
     * cannot slip between this check and the assignment.
     */
    async resolveForAssignment(
      trx: Kysely<Database>,
      names: readonly string[],
    ): Promise<Array<{ id: string; name: string }>> {
      const seen = new Map<string, number>();
      names.forEach((name, index) => {
        const key = name.toLowerCase();
        const first = seen.get(key);
        if (first !== undefined) {
          throw coreError('request.invalid', `accessRoles lists "${name}" twice`, {
            errors: [{ index, pointer: `/accessRoles/${index}`, message: `same role as entry ${first}` }],
          });
        }
        seen.set(key, index);
      });
      const rows = await findRolesByNames(trx, names, { engine, mode: 'share' });
      const byName = new Map(rows.map((row) => [row.name_lower, row]));
      const missing: ProblemItem[] = [];
      const resolved = names.flatMap((name, index) => {
        const row = byName.get(name.toLowerCase());
        if (row) return [{ id: row.id, name: row.name }];
        missing.push({ index, pointer: `/accessRoles/${index}`, message: `no access role named "${name}"` });
        return [];
      });
      if (missing.length > 0) {
        throw accessRoleError('access_role.unknown', 'accessRoles names roles that do not exist', {
          errors: missing,
        });
      }
      return resolved;
    },

    /** Replaces a user's ordered role list inside the caller's transaction. */
    assign(trx: Kysely<Database>, userId: string, roleIds: readonly string[]): Promise<void> {
      return replaceAssignments(trx, userId, roleIds);
    },

    /** Role names per user (in evaluation order), for user responses. */
    namesByUser(trx: Kysely<Database>, userIds: readonly string[]): Promise<Map<string, string[]>> {
      return assignedNamesByUser(trx, userIds);
    },

    /** A user's role ids in evaluation order. */
    roleIdsOf(userId: string): Promise<string[]> {
      return assignedRoleIds(db, userId);
    },

    async rolesByIds(ids: readonly string[]): Promise<RoleData[]> {
      return (await findRolesByIds(db, ids)).map(toRoleData);
    },

    async roleByName(name: string): Promise<RoleData | undefined> {
      const row = await findRoleByName(db, name);
      return row ? toRoleData(row) : undefined;
    },
  };
}
