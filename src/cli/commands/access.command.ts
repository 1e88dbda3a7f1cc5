import { parseWith } from '../../core/validation.js';
import { ExplainBody, type Explanation } from '../../modules/access/access.schemas.js';
import type { Services } from '../../services.js';
import {
  type CommandSpec,
  defineGroup,
  type OptionSpec,
  optionalInteger,
  optionalString,
  parse,
} from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { commandUsage, groupUsage } from '../usage.js';

const USER_OPTIONS = {
  user: { type: 'string', value: 'U', description: 'the MQTT username', required: true },
  clientid: { type: 'string', value: 'C', description: 'the client id (for ${clientid} in rules)' },
} as const satisfies Record<string, OptionSpec>;

export const ACCESS = defineGroup('access', "explain access decisions and show a user's effective rules", {
  explain: {
    summary: 'say whether a publish, subscribe, delivery or HTTP request would be allowed, and by which rule',
    options: {
      ...USER_OPTIONS,
      action: {
        type: 'string',
        value: 'publish|subscribe|receive|http',
        description: 'the MQTT action, or http (a request forwarded by a reverse proxy)',
        required: true,
      },
      topic: {
        type: 'string',
        value: 'T',
        description: 'MQTT: the topic; a filter for subscribe',
      },
      method: { type: 'string', value: 'M', description: 'http: the request method (default GET)' },
      path: { type: 'string', value: 'P', description: 'http: the request path, query included' },
      qos: { type: 'string', value: 'N', description: 'the QoS level' },
      retain: { type: 'boolean', description: 'a retained message' },
    },
    notes: [
      'Exit code: 0 allowed, 3 denied, 4 partially granted (subscribe: deliveries filtered; 1 error, 2 bad usage).',
      "Example: warden access explain --user alice --action http --method GET --path '/grafana/d/abc?x=1'",
    ],
  },
  effective: {
    summary: "list a user's access roles and their rules in evaluation order",
    options: USER_OPTIONS,
  },
});

function describe(explanation: Explanation): string {
  const verdict = explanation.decision.toUpperCase();
  const seen = explanation.canonicalPath === undefined ? '' : ` (path seen as ${explanation.canonicalPath})`;
  if (!explanation.rule) {
    const why = explanation.pathError === undefined ? '' : `: ${explanation.pathError}`;
    return `${verdict} (${explanation.reason.replaceAll('_', ' ')}${why})${seen}\n`;
  }
  if (explanation.rule.action === 'http') {
    const { permission, methods, path } = explanation.rule;
    const expanded =
      explanation.expandedPath && explanation.expandedPath !== path
        ? ` (expanded: ${explanation.expandedPath})`
        : '';
    return (
      `${verdict} by rule ${explanation.ruleIndex} of access role "${explanation.role}": ` +
      `${permission} http ${methods?.join(',') ?? '*'} ${path}${expanded}${seen}\n`
    );
  }
  const expanded =
    explanation.expandedTopic && explanation.expandedTopic !== explanation.rule.topic
      ? ` (expanded: ${explanation.expandedTopic})`
      : '';
  const carveOuts = (explanation.carveOuts ?? []).map(
    (carveOut) =>
      `  carve-out: rule ${carveOut.ruleIndex} of access role "${carveOut.role}": ` +
      `${carveOut.rule.permission} ${carveOut.rule.action} ${carveOut.expandedTopic}\n`,
  );
  return (
    `${verdict} by rule ${explanation.ruleIndex} of access role "${explanation.role}": ` +
    `${explanation.rule.permission} ${explanation.rule.action} ${explanation.rule.topic}${expanded}` +
    `${explanation.decision === 'partial' ? ' (partially granted: deliveries filtered)' : ''}\n${carveOuts.join('')}`
  );
}

const EXIT_CODES: Record<Explanation['decision'], number> = { allow: 0, deny: 3, partial: 4 };

function requireFlag(values: Record<string, unknown>, name: string, spec: CommandSpec): string {
  const value = optionalString(values, name);
  if (value === undefined) throw new UsageError(`missing --${name}\n\n${commandUsage(spec)}`);
  return value;
}

/** `warden access …`: explain MQTT decisions and show a user's effective rules. */
export async function accessCommand(services: Services, argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  const specs = ACCESS.subcommands;
  switch (sub) {
    case 'explain': {
      const { values, json } = parse(rest, specs.explain);
      const qos = optionalInteger(values, 'qos');
      const action = requireFlag(values, 'action', specs.explain);
      const username = requireFlag(values, 'user', specs.explain);
      const input = parseWith(
        ExplainBody,
        action === 'http'
          ? {
              username,
              action,
              method: optionalString(values, 'method') ?? 'GET',
              path: requireFlag(values, 'path', specs.explain),
            }
          : {
              username,
              action,
              topic: requireFlag(values, 'topic', specs.explain),
              ...(values.clientid === undefined ? {} : { clientid: values.clientid }),
              ...(qos === undefined ? {} : { qos }),
              ...(values.retain === true ? { retain: true } : {}),
            },
      );
      const explanation = await services.access.explain(input);
      emit(io, json, explanation, () => describe(explanation));
      // Scripts can branch on the exit code: 0 allowed, 3 denied, 4 partial (1 and 2 are errors and usage).
      return EXIT_CODES[explanation.decision];
    }
    case 'effective': {
      const { values, json } = parse(rest, specs.effective);
      const result = await services.access.effectiveAccess(
        requireFlag(values, 'user', specs.effective),
        optionalString(values, 'clientid') ?? null,
      );
      emit(io, json, result, () => {
        const status = result.active ? '' : ' (deactivated: everything is denied)';
        const rows = result.rules.map((rule) => ({
          ...rule,
          carveOuts: rule.carveOuts?.map((carveOut) => carveOut.topic).join(' '),
        }));
        const httpRows = result.httpRules.map((rule) => ({
          ...rule,
          methods: rule.methods?.join(',') ?? '*',
        }));
        const http =
          httpRows.length === 0
            ? ''
            : `HTTP rules:\n${formatTable(httpRows, ['role', 'ruleIndex', 'permission', 'methods', 'path'])}`;
        return `${result.username}${status}: roles ${result.roles.map((r) => r.name).join(', ') || '(none)'}\n${formatTable(rows, ['role', 'ruleIndex', 'permission', 'action', 'topic', 'qos', 'retain', 'applicable', 'carveOuts'])}${http}`;
      });
      return 0;
    }
    default:
      throw new UsageError(groupUsage(ACCESS));
  }
}
