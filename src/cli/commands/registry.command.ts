import { parseWith } from '../../core/validation.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import {
  ApproveBody,
  CreateTokenBody,
  LimitsSchema,
  ListRequestsQuery,
  type RegistryRequest,
  type RegistryState,
  RejectBody,
  UnlockBody,
} from '../../modules/registry/registry.schemas.js';
import type { Services } from '../../services.js';
import {
  defineGroup,
  optionalInteger,
  optionalString,
  parse,
  repeatedStrings,
  requirePositional,
} from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

const REQUEST_COLUMNS = ['id', 'username', 'clientId', 'source', 'ip', 'hasCsr', 'status', 'createdAt'];
const TOKEN_COLUMNS = ['id', 'name', 'usesLeft', 'maxUses', 'expiresAt', 'expired', 'createdBy'];
const TOKEN_ACTIONS = ['list', 'create', 'revoke'] as const;

export const REGISTRY = defineGroup(
  'registry',
  'the device client registry: unlock, approve, enrolment tokens',
  {
    status: { summary: 'whether devices may register now, how many requests wait, and the limits' },
    unlock: {
      summary: 'let devices register without an enrolment token for some minutes',
      options: {
        minutes: { type: 'string', value: 'N', required: true, description: 'how long, 1 to 60' },
      },
    },
    lock: { summary: 'end an unlock now (enrolment tokens keep working)' },
    requests: {
      summary: 'list registration requests, newest first',
      options: {
        status: {
          type: 'string',
          value: 'S',
          description: 'only pending, approved, rejected or expired ones (default: all)',
        },
        page: { type: 'string', value: 'N', description: 'page number, from 1' },
        'page-size': { type: 'string', value: 'N', description: '25, 50, 100 or 250 (default 250)' },
      },
    },
    approve: {
      args: '<id>',
      summary: 'approve a request: creates the device (no permissions unless given access roles)',
      options: {
        'access-role': {
          type: 'string',
          value: 'R',
          multiple: true,
          description: 'an access role of the device; repeat it for several, in evaluation order',
        },
      },
      notes: ['Example: warden registry approve 3f2a9c1d0b7e6a54 --access-role sensor'],
    },
    reject: {
      args: '<id>',
      summary: 'reject a request; the device is told, with the reason',
      options: { reason: { type: 'string', value: 'TEXT', description: 'why (told to the device)' } },
    },
    tokens: {
      args: '<list | create | revoke <id>>',
      summary: 'enrolment tokens: list them, create one (printed once), revoke one',
      options: {
        name: { type: 'string', value: 'TEXT', description: 'create: what the token is for' },
        uses: { type: 'string', value: 'N', description: 'create: how many requests it admits (default 1)' },
        'expires-in': {
          type: 'string',
          value: 'D',
          description: 'create: how long it is valid, e.g. 90m, 12h, 7d (default 7d, at most a year)',
        },
      },
      notes: [
        'Devices send it as "token" in their request, or as the MQTT password of $registry (docs/registry.md).',
      ],
    },
    limits: {
      summary: 'change the most pending requests, their expiry and the validity of issued certificates',
      options: {
        'max-pending': { type: 'string', value: 'N', description: 'requests that may wait at once' },
        'request-expiry-hours': { type: 'string', value: 'H', description: 'hours a request waits at most' },
        'certificate-validity-days': {
          type: 'string',
          value: 'D',
          description: 'days a certificate issued at approval is valid',
        },
      },
    },
  },
);

const DURATION = /^(\d{1,6})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `7d`, `12h`, `90m` in milliseconds. */
function durationMs(value: string): number {
  const match = DURATION.exec(value);
  if (!match) throw new UsageError(`--expires-in must be a number with m, h or d (e.g. 7d), not "${value}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

function stateText(state: RegistryState): string {
  return [
    `Registration: ${state.unlocked ? `unlocked until ${state.unlockedUntil}` : 'locked'}`,
    `Pending requests: ${state.pendingCount} (at most ${state.limits.maxPending})`,
    `Requests expire after: ${state.limits.requestExpiryHours} h`,
    `Certificates are valid for: ${state.limits.certificateValidityDays} days`,
    '',
  ].join('\n');
}

function showRequest(io: CliIo, json: boolean, request: RegistryRequest): void {
  emit(io, json, request, () => formatTable([request], [...REQUEST_COLUMNS, 'accessRoles']));
}

/** `warden registry`: the same services, validation and audit (actor `cli`) as the API (docs/registry.md). */
export async function registryCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { registry } = services;
  const specs = REGISTRY.subcommands;
  switch (sub) {
    case 'status': {
      const { json } = parse(rest, specs.status);
      const state = await registry.state();
      emit(io, json, state, () => stateText(state));
      return 0;
    }
    case 'unlock': {
      const { values, json } = parse(rest, specs.unlock);
      const { minutes } = parseWith(UnlockBody, { minutes: optionalInteger(values, 'minutes') });
      const state = await registry.unlock(CLI_CONTEXT, minutes);
      emit(io, json, state, () => stateText(state));
      return 0;
    }
    case 'lock': {
      const { json } = parse(rest, specs.lock);
      const state = await registry.lock(CLI_CONTEXT);
      emit(io, json, state, () => stateText(state));
      return 0;
    }
    case 'requests': {
      const { values, json } = parse(rest, specs.requests);
      const status = optionalString(values, 'status');
      const query = parseWith(ListRequestsQuery, {
        page: optionalInteger(values, 'page') ?? 1,
        pageSize: optionalInteger(values, 'page-size') ?? 250,
        ...(status === undefined ? {} : { status }),
      });
      const list = await registry.list(query);
      emit(
        io,
        json,
        list,
        () => `${formatTable(list.items, REQUEST_COLUMNS)}${list.items.length} of ${list.total}\n`,
      );
      return 0;
    }
    case 'approve': {
      const { values, positionals, json } = parse(rest, specs.approve);
      const id = requirePositional(positionals, 0, 'id');
      const input = parseWith(ApproveBody, { accessRoles: repeatedStrings(values, 'access-role') });
      showRequest(io, json, await registry.approve(CLI_CONTEXT, id, input));
      return 0;
    }
    case 'reject': {
      const { values, positionals, json } = parse(rest, specs.reject);
      const id = requirePositional(positionals, 0, 'id');
      const reason = optionalString(values, 'reason');
      const input = parseWith(RejectBody, reason === undefined ? {} : { reason });
      showRequest(io, json, await registry.reject(CLI_CONTEXT, id, input));
      return 0;
    }
    case 'tokens':
      return tokensCommand(services, rest, io);
    case 'limits': {
      const { values, json } = parse(rest, specs.limits);
      const { limits } = await registry.state();
      const input = parseWith(LimitsSchema, {
        maxPending: optionalInteger(values, 'max-pending') ?? limits.maxPending,
        requestExpiryHours: optionalInteger(values, 'request-expiry-hours') ?? limits.requestExpiryHours,
        certificateValidityDays:
          optionalInteger(values, 'certificate-validity-days') ?? limits.certificateValidityDays,
      });
      const state = await registry.setLimits(CLI_CONTEXT, input);
      emit(io, json, state, () => stateText(state));
      return 0;
    }
    default:
      throw new UsageError(groupUsage(REGISTRY));
  }
}

/** `warden registry tokens list | create | revoke <id>`. */
async function tokensCommand(services: Services, args: readonly string[], out: CliIo): Promise<number> {
  const { registryTokens } = services;
  const { values, positionals, json } = parse(args, REGISTRY.subcommands.tokens);
  const action = positionals[0];
  if (!TOKEN_ACTIONS.includes(action as (typeof TOKEN_ACTIONS)[number])) {
    throw new UsageError('warden registry tokens list | create [--uses N] [--expires-in 7d] | revoke <id>');
  }
  if (action === 'list') {
    const list = await registryTokens.list();
    emit(out, json, list, () => `${formatTable(list.items, TOKEN_COLUMNS)}${list.total} token(s)\n`);
    return 0;
  }
  if (action === 'revoke') {
    const id = requirePositional(positionals, 1, 'id');
    await registryTokens.revoke(CLI_CONTEXT, id);
    emit(out, json, { revoked: id }, () => `Revoked enrolment token ${id}\n`);
    return 0;
  }
  const name = optionalString(values, 'name');
  const uses = optionalInteger(values, 'uses');
  const expiresIn = optionalString(values, 'expires-in');
  const input = parseWith(CreateTokenBody, {
    ...(name === undefined ? {} : { name }),
    ...(uses === undefined ? {} : { uses }),
    ...(expiresIn === undefined
      ? {}
      : { expiresAt: new Date(services.infra.clock.now() + durationMs(expiresIn)).toISOString() }),
  });
  const created = await registryTokens.create(CLI_CONTEXT, input);
  emit(
    out,
    json,
    created,
    () =>
      `${formatTable([created.token], TOKEN_COLUMNS)}` +
      `Enrolment token (shown once, store it now): ${created.secret}\n`,
  );
  return 0;
}
