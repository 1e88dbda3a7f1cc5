import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { type CommandSpec, optionalString, parse } from '../args.js';
import { type CliIo, emit, UsageError } from '../output.js';

export const MQTT_TOKEN: CommandSpec = {
  name: 'mqtt-token',
  summary: 'issue a short-lived MQTT token (a JWT to send as MQTT password) for a user, printed once',
  options: {
    user: { type: 'string', value: 'NAME', description: 'the user the token stands for', required: true },
    ttl: {
      type: 'string',
      value: 'DURATION',
      description: 'how long it is valid: 90s, 15m, 1h (1 minute to 1 hour; default 15m)',
    },
  },
  notes: [
    'Connections opened with the token close when it expires (docs/mqtt-tokens.md). For scripts:',
    '  mosquitto_pub -u svc -P "$(warden mqtt-token --user svc --json | jq -r .token)" -t t -m hi',
  ],
};

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** `90s`, `15m`, `1h`, or plain seconds. */
export function parseTtl(value: string): number {
  const match = /^(\d{1,7})([smh]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`--ttl must be a duration such as 90s, 15m or 1h, not "${value}"`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
}

/** `warden mqtt-token`: the same service, checks and audit (`mqtt_token.issue`, actor `cli`) as the API. */
export async function mqttTokenCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const { values, positionals, json } = parse(argv, MQTT_TOKEN);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const user = optionalString(values, 'user');
  if (user === undefined) throw new UsageError('missing --user NAME');
  const ttl = optionalString(values, 'ttl');
  const issued = await services.mqttTokens.issueFor(CLI_CONTEXT, user, {
    ...(ttl === undefined ? {} : { ttlSeconds: parseTtl(ttl) }),
  });
  emit(
    io,
    json,
    issued,
    () =>
      `MQTT token for ${issued.username}, valid until ${issued.expiresAt} (shown only now):\n${issued.token}\n`,
  );
  return 0;
}
