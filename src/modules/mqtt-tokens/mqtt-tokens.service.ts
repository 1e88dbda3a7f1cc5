import type { Kysely } from 'kysely';
import { type Clock, toIso } from '../../core/clock.js';
import { coreError } from '../../core/errors/core-errors.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext, SelfContext } from '../permissions/operation-context.js';
import { userTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { UserRow } from '../users/users.table.js';
import { mqttTokenError } from './mqtt-tokens.errors.js';
import type { IssuedMqttToken, IssueMqttTokenInput } from './mqtt-tokens.schemas.js';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
  type WardenTokenKey,
} from './warden-token.js';

export type MqttTokensService = ReturnType<typeof createMqttTokensService>;

/**
 * Issues Warden MQTT tokens (docs/mqtt-tokens.md#warden-mqtt-tokens): short-lived JWTs a user sends as MQTT
 * password — how SSO users, who have no password, and their tools reach MQTT. Nothing is stored but the audit
 * event (`mqtt_token.issue`, with the token's id and expiry, never the token): a token is verified by its
 * signature, and stops working when it expires or its user is deactivated or deleted.
 */
export function createMqttTokensService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  users: Pick<UserReader, 'findRowById' | 'mustFindRow'>;
  key: WardenTokenKey;
}) {
  async function issue(
    ctx: OperationContext,
    row: UserRow,
    input: IssueMqttTokenInput,
  ): Promise<IssuedMqttToken> {
    const ttlSeconds = input.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (
      !Number.isInteger(ttlSeconds) ||
      ttlSeconds < MIN_TOKEN_TTL_SECONDS ||
      ttlSeconds > MAX_TOKEN_TTL_SECONDS
    ) {
      throw mqttTokenError(
        'mqtt_token.ttl_out_of_range',
        `A token lives ${MIN_TOKEN_TTL_SECONDS} to ${MAX_TOKEN_TTL_SECONDS} seconds, not ${ttlSeconds}`,
      );
    }
    if (row.active !== 1) {
      throw mqttTokenError('mqtt_token.user_inactive', `User "${row.username}" is deactivated`);
    }
    const signed = await deps.key.sign(row.id, deps.clock.now(), ttlSeconds);
    const expiresAt = toIso(signed.expiresAt);
    await deps.db.transaction().execute((trx) =>
      deps.audit.record(trx, ctx, {
        action: 'mqtt_token.issue',
        target: userTarget(row.username),
        details: { jti: signed.jti, ttlSeconds, expiresAt },
      }),
    );
    return { token: signed.token, expiresAt, username: row.username };
  }

  return {
    /** A token for the signed-in user (`POST /api/v1/me/mqtt-token`). */
    async issueForSelf(ctx: SelfContext, input: IssueMqttTokenInput): Promise<IssuedMqttToken> {
      const row = await deps.users.findRowById(ctx.actor.userId);
      // The session was resolved moments ago; a user deleted since is no longer signed in.
      if (!row) throw coreError('auth.required');
      return issue(ctx, row, input);
    },

    /** A token for any user, by name: the CLI on the host (`warden mqtt-token`). */
    async issueFor(
      ctx: OperationContext,
      username: string,
      input: IssueMqttTokenInput,
    ): Promise<IssuedMqttToken> {
      return issue(ctx, await deps.users.mustFindRow(username), input);
    },
  };
}
