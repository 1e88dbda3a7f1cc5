import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { Database } from '../../db/schema.js';
import {
  type DynsecPasswordRecord,
  hashDynsecPassword,
  isDynsecPasswordRecord,
} from '../../integrations/mosquitto-dynsec/dynsec-password.js';
import type { PasswordLedger } from '../../integrations/mosquitto-dynsec/mosquitto-integration.js';
import type { UsersService } from '../users/users.service.js';
import {
  currentCredentials,
  markPasswordSynced,
  unsyncedPasswords,
  upsertCredential,
} from './brokers.repository.js';

const sealContext = (userId: string): string => `broker-credential:${userId}`;

export interface BrokerCredentials {
  /**
   * A password was committed for `username`: stores its Mosquitto (PBKDF2-SHA512) record sealed, then hands
   * the plaintext to the broker integrations (`onPassword`). Never throws into the user operation, which has
   * already succeeded; failures go to `onError`.
   */
  capture(username: string, password: string): Promise<void>;
  /** Current Mosquitto password records by username (for `warden mosquitto export-dynsec`). */
  mosquittoRecords(): Promise<Map<string, DynsecPasswordRecord>>;
  readonly ledger: PasswordLedger;
}

/**
 * Broker-format credentials. The plaintext exists only while a password is being set, so that is when the
 * record Mosquitto needs is derived. Mosquitto's format is a weak hash (101 iterations), so it is kept sealed
 * with the secret box and leaves Warden only inside an exported dynamic-security.json.
 */
export function createBrokerCredentials(deps: {
  db: Kysely<Database>;
  clock: Clock;
  box: SecretBox;
  users: Pick<UsersService, 'findRow'>;
  /**
   * Fans the plaintext out to the integrations: resolves at once in the server (running adapters push in the
   * background), after the one-off pushes in the CLI, so that they finish before the command exits.
   */
  onPassword: (username: string, password: string) => Promise<void>;
  onError: (error: unknown) => void;
}): BrokerCredentials {
  const { db, clock, box } = deps;
  return {
    async capture(username, password) {
      try {
        const row = await deps.users.findRow(username);
        if (!row) return;
        const record = hashDynsecPassword(password);
        await upsertCredential(db, {
          user_id: row.id,
          mosquitto: box.seal(Buffer.from(JSON.stringify(record), 'utf8'), sealContext(row.id)),
          password_changed_at: row.password_changed_at,
          updated_at: clock.now(),
        });
        await deps.onPassword(row.username, password);
      } catch (error) {
        deps.onError(error);
      }
    },

    async mosquittoRecords() {
      const records = new Map<string, DynsecPasswordRecord>();
      for (const row of await currentCredentials(db)) {
        const opened = box.open(row.mosquitto, sealContext(row.user_id));
        if (opened === null) continue;
        const record: unknown = JSON.parse(Buffer.from(opened).toString('utf8'));
        if (isDynsecPasswordRecord(record)) records.set(row.username, record);
      }
      return records;
    },

    ledger: {
      unsynced: (integrationId, exclude, limit) => unsyncedPasswords(db, integrationId, exclude, limit),
      synced: (integrationId, username) => markPasswordSynced(db, integrationId, username, clock.now()),
    },
  };
}

/**
 * The users service with its password-setting operations reporting the new password to `capture` after they
 * commit: the least invasive hook — the users service stays unaware of brokers, no domain event ever carries
 * a password (events get logged), and every path (API, console, CLI, bootstrap, break-glass) goes through
 * these four methods.
 */
export function withPasswordCapture(
  users: UsersService,
  credentials: Pick<BrokerCredentials, 'capture'>,
): UsersService {
  return {
    ...users,
    async create(ctx, input, options) {
      const user = await users.create(ctx, input, options);
      await credentials.capture(user.username, input.password);
      return user;
    },
    async setPassword(ctx, username, password, options) {
      await users.setPassword(ctx, username, password, options);
      await credentials.capture(username, password);
    },
    async changeOwnPassword(ctx, currentPassword, password) {
      await users.changeOwnPassword(ctx, currentPassword, password);
      await credentials.capture(ctx.actor.username, password);
    },
    async recoverRoot(ctx, password) {
      const user = await users.recoverRoot(ctx, password);
      await credentials.capture(user.username, password);
      return user;
    },
  };
}
