import { parseWith } from '../../core/validation.js';
import {
  type AccessRuleJson,
  AccessRuleSchema,
  CreateAccessRoleBody,
  ListAccessRolesQuery,
  type PublicAccessRole,
} from '../../modules/access-roles/access-roles.schemas.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { optionalInteger, optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';

export const ACCESS_ROLES_USAGE = `warden access-roles list [--page N] [--page-size N] [--json]
warden access-roles show <name> [--json]
warden access-roles create <name> [--description D] [--json]
warden access-roles add-rule <name> --permission allow|deny --action publish|subscribe|all --topic T
                              [--qos 0,1] [--retain true|false] [--json]
warden access-roles delete <name> [--force]`;

const ROLE_COLUMNS = ['name', 'version', 'userCount', 'description'];

function describeRule(rule: AccessRuleJson): string {
  const qos = rule.qos ? ` qos=${rule.qos.join(',')}` : '';
  const retain = rule.retain === undefined ? '' : ` retain=${rule.retain}`;
  return `${rule.permission} ${rule.action} ${rule.topic}${qos}${retain}`;
}

function showRole(io: CliIo, json: boolean, role: PublicAccessRole): void {
  emit(io, json, role, () => {
    const rules = role.rules.map((rule, index) => `  ${index}: ${describeRule(rule)}`).join('\n');
    return `${formatTable([role], ROLE_COLUMNS)}Rules (first match wins, no match denies):\n${rules || '  (none)'}\n`;
  });
}

/** The rule given by flags, validated by the same schema as the API (the engine checks the topic). */
function ruleFromFlags(values: Record<string, unknown>): AccessRuleJson {
  const qos = optionalString(values, 'qos');
  const retain = optionalString(values, 'retain');
  if (retain !== undefined && retain !== 'true' && retain !== 'false') {
    throw new UsageError('--retain must be true or false');
  }
  return parseWith(AccessRuleSchema, {
    permission: values.permission,
    action: values.action,
    topic: values.topic,
    ...(qos === undefined ? {} : { qos: qos.split(',').map((level) => Number(level.trim())) }),
    ...(retain === undefined ? {} : { retain: retain === 'true' }),
  });
}

/** `warden access-roles …`: the same service, validation and audit (actor `cli`) as the API. */
export async function accessRolesCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { accessRoles } = services;
  switch (sub) {
    case 'list': {
      const { values, json } = parse(rest, { page: { type: 'string' }, 'page-size': { type: 'string' } });
      const result = await accessRoles.list(
        parseWith(ListAccessRolesQuery, {
          page: optionalInteger(values, 'page') ?? 1,
          pageSize: optionalInteger(values, 'page-size') ?? 250,
        }),
      );
      emit(
        io,
        json,
        result,
        () => `${formatTable(result.items, ROLE_COLUMNS)}${result.items.length} of ${result.total}\n`,
      );
      return 0;
    }
    case 'show': {
      const { positionals, json } = parse(rest, {});
      showRole(io, json, await accessRoles.get(requirePositional(positionals, 0, 'name')));
      return 0;
    }
    case 'create': {
      const { values, positionals, json } = parse(rest, { description: { type: 'string' } });
      const input = parseWith(CreateAccessRoleBody, {
        name: requirePositional(positionals, 0, 'name'),
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      showRole(io, json, await accessRoles.create(CLI_CONTEXT, input));
      return 0;
    }
    case 'add-rule': {
      const { values, positionals, json } = parse(rest, {
        permission: { type: 'string' },
        action: { type: 'string' },
        topic: { type: 'string' },
        qos: { type: 'string' },
        retain: { type: 'string' },
      });
      const name = requirePositional(positionals, 0, 'name');
      const rule = ruleFromFlags(values);
      const role = await accessRoles.get(name);
      // `version` makes a concurrent change fail (409) instead of being overwritten.
      const updated = await accessRoles.update(CLI_CONTEXT, name, {
        rules: [...role.rules, rule],
        version: role.version,
      });
      showRole(io, json, updated);
      return 0;
    }
    case 'delete': {
      const { values, positionals, json } = parse(rest, { force: { type: 'boolean' } });
      const name = requirePositional(positionals, 0, 'name');
      await accessRoles.remove(CLI_CONTEXT, name, { force: values.force === true });
      emit(io, json, { deleted: name }, () => `Deleted access role ${name}\n`);
      return 0;
    }
    default:
      throw new UsageError(ACCESS_ROLES_USAGE);
  }
}
