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
import { defineGroup, optionalInteger, optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

export const ACCESS_ROLES = defineGroup('access-roles', 'manage MQTT access roles and their rules', {
  list: {
    summary: 'list access roles with their number of users',
    options: {
      page: { type: 'string', value: 'N', description: 'page number, from 1' },
      'page-size': {
        type: 'string',
        value: 'N',
        description: 'roles per page: 25, 50, 100 or 250 (default 250)',
      },
    },
  },
  show: { args: '<name>', summary: 'show an access role and its rules in evaluation order' },
  create: {
    args: '<name>',
    summary: 'create an access role without rules (add them with add-rule)',
    options: { description: { type: 'string', value: 'D', description: 'what the role is for' } },
  },
  'add-rule': {
    args: '<name>',
    summary: "append a rule to an access role's list (first match wins, no match denies)",
    options: {
      permission: {
        type: 'string',
        value: 'allow|deny',
        description: 'what a match decides',
        required: true,
      },
      action: {
        type: 'string',
        value: 'publish|subscribe|all|http',
        description: 'which MQTT action the rule is about, or http (forwarded HTTP requests)',
        required: true,
      },
      topic: {
        type: 'string',
        value: 'T',
        description: 'MQTT: topic filter; ${username} and ${clientid} are replaced per client',
      },
      path: {
        type: 'string',
        value: 'P',
        description: 'http: path pattern (* = one segment, ** last = any rest, ${username})',
      },
      methods: {
        type: 'string',
        value: 'GET,HEAD',
        description: 'http: only these methods (default every method)',
      },
      qos: { type: 'string', value: '0,1', description: 'only these QoS levels (default all)' },
      retain: {
        type: 'string',
        value: 'true|false',
        description: 'only retained or only non-retained messages',
      },
    },
    notes: [
      "Example: warden access-roles add-rule sensor --permission allow --action publish --topic 'dt/${username}/#'",
      "Example: warden access-roles add-rule dashboards --permission allow --action http --methods GET,HEAD --path '/grafana/**'",
    ],
  },
  delete: {
    args: '<name>',
    summary: 'delete an access role',
    options: { force: { type: 'boolean', description: 'also when users hold it (they lose it)' } },
  },
});

const ROLE_COLUMNS = ['name', 'version', 'userCount', 'description'];

function describeRule(rule: AccessRuleJson): string {
  if (rule.action === 'http') return `${rule.permission} http ${rule.methods?.join(',') ?? '*'} ${rule.path}`;
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
  if (values.action === 'http') {
    const methods = optionalString(values, 'methods');
    return parseWith(AccessRuleSchema, {
      permission: values.permission,
      action: 'http',
      path: values.path,
      ...(methods === undefined ? {} : { methods: methods.split(',').map((method) => method.trim()) }),
    });
  }
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
  const specs = ACCESS_ROLES.subcommands;
  switch (sub) {
    case 'list': {
      const { values, json } = parse(rest, specs.list);
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
      const { positionals, json } = parse(rest, specs.show);
      showRole(io, json, await accessRoles.get(requirePositional(positionals, 0, 'name')));
      return 0;
    }
    case 'create': {
      const { values, positionals, json } = parse(rest, specs.create);
      const input = parseWith(CreateAccessRoleBody, {
        name: requirePositional(positionals, 0, 'name'),
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      showRole(io, json, await accessRoles.create(CLI_CONTEXT, input));
      return 0;
    }
    case 'add-rule': {
      const { values, positionals, json } = parse(rest, specs['add-rule']);
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
      const { values, positionals, json } = parse(rest, specs.delete);
      const name = requirePositional(positionals, 0, 'name');
      await accessRoles.remove(CLI_CONTEXT, name, { force: values.force === true });
      emit(io, json, { deleted: name }, () => `Deleted access role ${name}\n`);
      return 0;
    }
    default:
      throw new UsageError(groupUsage(ACCESS_ROLES));
  }
}
