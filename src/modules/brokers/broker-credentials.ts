import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import { fallbackLogger } from '../../core/logging/logger.js';
import type { Database } from '../../db/schema.js';
import {
  type DynsecPasswordRecord,
  hashDynsecPassword,
  isDynsecPasswordRecord,
} from '../../integrations/mosquitto-dynsec/dynsec-password.js';
import type { PasswordLedger } from '../../integrations/mosquitto-dynsec/mosquitto-integration.js';
import type { PasswordSink } from '../users/users.service.js';
import {
  currentCredentials,
  forgetPasswordSync,
  markPasswordSynced,
  unsyncedPasswords,
  upsertCredential,
} from './brokers.repository.js';

const sealContext = (userId: string): string => `broker-credential:${userId}`;

/** Where just-set passwords go once their broker record is stored. */
export interface PasswordDelivery {
  /**
   * Hands the plaintext to the broker integrations: resolves at once in the server (running adapters push in the
   * background), after the one-off pushes in the CLI, so that they finish before the command exits.
   */
  deliver(username: string, password: string): Promise<void>;
  readonly logger: Logger;
}

export interface BrokerCredentials extends PasswordSink {
  /** Current Mosquitto password records by username (for `warden mosquitto export-dynsec`). */
  mosquittoRecords(): Promise<Map<string, DynsecPasswordRecord>>;
  readonly ledger: PasswordLedger;
  /**
   * From now on passwords are also delivered to `delivery` (the server's running integrations, or the CLI's
   * one-off pushes); returns the function that stops it. Without one, records are stored and nothing is pushed.
   */
  deliverTo(delivery: PasswordDelivery): () => void;
}

/**
 * Broker-format credentials: the users service's password sink. The plaintext exists only while a password is
 * being set, so that is when the record Mosquitto needs is derived. Mosquitto's format is a weak hash (101
 * iterations), so it is kept sealed with the secret box and leaves Warden only inside an exported
 * dynamic-security.json. Depends on nothing but the database, so the users service can be built with it.
 */
export function createBrokerCredentials(deps: {
  db: Kysely<Database>;
  clock: Clock;
  box: SecretBox;
}): BrokerCredentials {
  const { db, clock, box } = deps;
  let delivery: PasswordDelivery | null = null;
  return {
    async passwordSet(user, password) {
      try {
        const record = hashDynsecPassword(password);
        await upsertCredential(db, {
          user_id: user.userId,
          mosquitto: box.seal(Buffer.from(JSON.stringify(record), 'utf8'), sealContext(user.userId)),
          password_changed_at: user.passwordChangedAt,
          updated_at: clock.now(),
        });
        await delivery?.deliver(user.username, password);
      } catch (error) {
        // The user operation has committed; the broker's status shows the password as pending.
        (delivery?.logger ?? fallbackLogger()).error(
          { err: error instanceof Error ? error.message : String(error), username: user.username },
          'capturing a broker credential failed',
        );
      }
    },

    deliverTo(next) {
      delivery = next;
      return () => {
        if (delivery === next) delivery = null;
      };
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
      forget: (integrationId, username) => forgetPasswordSync(db, integrationId, username),
    },
  };
}
