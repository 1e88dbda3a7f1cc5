import { parseWith } from '../../core/validation.js';
import { ExplainBody, type Explanation } from '../../modules/access/access.schemas.js';
import type { Services } from '../../services.js';
import { optionalInteger, optionalString, parse } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';

export const ACCESS_USAGE = `warden access explain --user U [--clientid C] --action publish|subscribe|receive --topic T
                      [--qos N] [--retain] [--json]
warden access effective --user U [--clientid C] [--json]`;

function describe(explanation: Explanation): string {
  const verdict = explanation.decision.toUpperCase();
  if (!explanation.rule) return `${verdict} (${explanation.reason.replaceAll('_', ' ')})\n`;
  const expanded =
    explanation.expandedTopic && explanation.expandedTopic !== explanation.rule.topic
      ? ` (expanded: ${explanation.expandedTopic})`
      : '';
  return (
    `${verdict} by rule ${explanation.ruleIndex} of access role "${explanation.role}": ` +
    `${explanation.rule.permission} ${explanation.rule.action} ${explanation.rule.topic}${expanded}` +
    `${explanation.reason === 'not_covered' ? ' (allows only part of the filter)' : ''}\n`
  );
}

function requireFlag(values: Record<string, unknown>, name: string): string {
  const value = optionalString(values, name);
  if (value === undefined) throw new UsageError(`missing --${name}\n\n${ACCESS_USAGE}`);
  return value;
}

/** `warden access …`: explain MQTT decisions and show a user's effective rules. */
export async function accessCommand(services: Services, argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'explain': {
      const { values, json } = parse(rest, {
        user: { type: 'string' },
        clientid: { type: 'string' },
        action: { type: 'string' },
        topic: { type: 'string' },
        qos: { type: 'string' },
        retain: { type: 'boolean' },
      });
      const qos = optionalInteger(values, 'qos');
      const input = parseWith(ExplainBody, {
        username: requireFlag(values, 'user'),
        action: requireFlag(values, 'action'),
        topic: requireFlag(values, 'topic'),
        ...(values.clientid === undefined ? {} : { clientid: values.clientid }),
        ...(qos === undefined ? {} : { qos }),
        ...(values.retain === true ? { retain: true } : {}),
      });
      const explanation = await services.access.explain(input);
      emit(io, json, explanation, () => describe(explanation));
      // Scripts can branch on the exit code: 0 allowed, 3 denied (1 and 2 are errors and usage).
      return explanation.decision === 'allow' ? 0 : 3;
    }
    case 'effective': {
      const { values, json } = parse(rest, { user: { type: 'string' }, clientid: { type: 'string' } });
      const result = await services.access.effectiveAccess(
        requireFlag(values, 'user'),
        optionalString(values, 'clientid') ?? null,
      );
      emit(io, json, result, () => {
        const status = result.active ? '' : ' (deactivated: everything is denied)';
        return `${result.username}${status}: roles ${result.roles.map((r) => r.name).join(', ') || '(none)'}\n${formatTable(result.rules, ['role', 'ruleIndex', 'permission', 'action', 'topic', 'qos', 'retain', 'applicable'])}`;
      });
      return 0;
    }
    default:
      throw new UsageError(ACCESS_USAGE);
  }
}
