/**
 * Shared set-up of the MQTT benchmarks (bench/broker.ts, reconnect.ts, revocation.ts; services from
 * bench/lib/services.ts): device users seeded in bulk, the embedded broker with access control, and a plain
 * aedes broker (no authentication, no authorization) as the baseline.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Aedes } from 'aedes';
import pino from 'pino';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import type { CreateAccessRoleInput } from '../../src/modules/access-roles/access-roles.schemas.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { insertUser } from '../../src/modules/users/users.repository.js';
import type { PasswordOrigin } from '../../src/modules/users/users.table.js';
import type { Services } from '../../src/services.js';

export const DEVICE_PASSWORD = 'Dev1ce-Passw0rd!';

/** A device's stored credential: its record and where the secret came from. */
export interface SeededCredential {
  readonly hash: string;
  readonly origin: PasswordOrigin | null;
}

/**
 * Creates device users `<prefix>-0 … <prefix>-(count-1)` holding `accessRoles`, by default all with
 * DEVICE_PASSWORD: one argon2 hash (production parameters unless the services were opened with others) serves
 * every row — it carries its own salt — so seeding thousands of devices takes seconds, while each CONNECT still
 * verifies for real. `credentials` gives each device its own record instead.
 */
export async function seedDevices(
  services: Services,
  options: {
    prefix: string;
    count: number;
    accessRoles: readonly string[];
    credentials?: readonly SeededCredential[];
  },
): Promise<string[]> {
  const shared: SeededCredential | null = options.credentials
    ? null
    : { hash: await services.infra.hasher.hash(DEVICE_PASSWORD), origin: null };
  const now = Date.now();
  const names = Array.from({ length: options.count }, (_, i) => `${options.prefix}-${i}`);
  await services.infra.db.transaction().execute(async (trx) => {
    const roles = await services.accessRoles.resolveForAssignment(trx, options.accessRoles);
    for (const [i, username] of names.entries()) {
      const credential = shared ?? (options.credentials?.[i] as SeededCredential);
      const id = randomUUID();
      await insertUser(trx, {
        id,
        username,
        username_lower: username.toLowerCase(),
        email: null,
        email_lower: null,
        description: '',
        kind: 'device',
        role: 'viewer',
        scopes: '[]',
        active: 1,
        password_hash: credential.hash,
        password_origin: credential.origin,
        password_changed_at: now,
        last_login_at: null,
        created_at: now,
        updated_at: now,
      });
      await services.accessRoles.assign(
        trx,
        id,
        roles.map((role) => role.id),
      );
    }
  });
  return names;
}

export function createRole(services: Services, input: CreateAccessRoleInput): Promise<unknown> {
  return services.accessRoles.create(CLI_CONTEXT, input);
}

/** The embedded broker with Warden's authentication and access rules, on a free loopback port. */
export function startWardenBroker(services: Services): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({
    services,
    logger: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    tls: null,
  });
}

export interface PlainBroker {
  readonly url: string;
  close(): Promise<void>;
}

/** Bare aedes with its defaults (no authentication, no authorization): the baseline. */
export async function startPlainBroker(): Promise<PlainBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closing;
    },
  };
}
