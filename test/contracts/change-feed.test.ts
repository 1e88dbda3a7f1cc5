import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus, type DomainEvents } from '../../src/core/events.js';
import { pruneChanges } from '../../src/db/change-feed/change-feed.repository.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { createTestDatabase, ENGINES, postgresUrl, type TestDatabase } from '../helpers/databases.js';
import { FAST_HASH, STRONG_PASSWORD } from '../helpers/test-app.js';

/**
 * The change feed on both engines: a change committed by one process (here: a second set of services on the
 * same database, as the CLI or another instance would be) reaches a following process through the feed alone,
 * in commit order, none lost; a follower that fell behind pruned rows drops its caches; a follower cut off from
 * PostgreSQL fails closed (MQTT logins refused, /readyz 503) and catches up when it is back.
 */

interface Process {
  readonly services: Services;
  readonly events: DomainEventBus;
  stop(): Promise<void>;
}

const SECRET = randomBytes(32).toString('base64url');

function open(database: TestDatabase, clock = new ManualClock(Date.now())): Omit<Process, 'stop'> {
  const events = new DomainEventBus((error) => {
    throw error;
  });
  const services = createServices({
    db: database.db,
    engine: database.engine,
    clock,
    hasher: new PasswordHasher({ params: FAST_HASH }),
    events,
    secretKey: SECRET,
    ...(database.notifications ? { notifications: database.notifications } : {}),
    ...(database.locks ? { locks: database.locks } : {}),
  });
  return { services, events };
}

async function serving(database: TestDatabase): Promise<Process> {
  const process = open(database);
  const stop = await startServices(process.services);
  return { ...process, stop };
}

/** Polls until `check` passes (no fixed sleeps); fails with its last error after `ms`. */
const until = (check: () => void | Promise<void>, ms = 5_000): Promise<void> =>
  vi.waitFor(check, { timeout: ms, interval: 20 });

function collect<E extends keyof DomainEvents>(events: DomainEventBus, event: E): DomainEvents[E][] {
  const seen: DomainEvents[E][] = [];
  events.on(event, (payload) => {
    seen.push(payload);
  });
  return seen;
}

describe.each(ENGINES)('change feed (%s)', (engine) => {
  let database: TestDatabase | undefined;
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await database?.destroy();
  });

  it('delivers a change made elsewhere (the CLI, another instance) to a following process', async () => {
    database = await createTestDatabase(engine);
    const follower = await serving(database);
    stops.push(follower.stop);
    const seen = collect(follower.events, 'user.changed');
    // A process that does not follow: the CLI.
    const cli = open(database);
    await cli.services.users.create(CLI_CONTEXT, {
      username: 'dev9',
      password: STRONG_PASSWORD,
      role: 'viewer',
    });
    await cli.services.users.deactivate(CLI_CONTEXT, 'dev9');
    await until(() =>
      expect(seen.map((event) => `${event.username} ${event.change}`)).toEqual([
        'dev9 created',
        'dev9 deactivated',
      ]),
    );
    // What the follower's caches say follows: the deactivated user has no access.
    expect(await follower.services.access.subject('dev9')).toBeNull();
  });

  it('keeps commit order and loses nothing under concurrent writers', async () => {
    database = await createTestDatabase(engine);
    const follower = await serving(database);
    stops.push(follower.stop);
    const seen = collect(follower.events, 'user.changed');
    const writers = [open(database), open(database), open(database)];
    const names = Array.from({ length: 30 }, (_, i) => `racer-${String(i).padStart(2, '0')}`);
    await Promise.all(
      names.map((username, i) =>
        (writers[i % writers.length] as Omit<Process, 'stop'>).services.users.create(CLI_CONTEXT, {
          username,
          password: STRONG_PASSWORD,
          role: 'viewer',
        }),
      ),
    );
    await until(() => expect(seen).toHaveLength(names.length));
    expect(seen.map((event) => event.username).sort()).toEqual(names);
    const ids = (await database.db.selectFrom('change_feed').select('id').orderBy('id').execute()).map(
      (r) => r.id,
    );
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(follower.services.changes.status().lastId).toBe(ids.at(-1));
  });

  it('a follower behind pruned changes drops every cache (feed.reset) and re-reads', async () => {
    database = await createTestDatabase(engine);
    const clock = new ManualClock(Date.now());
    const follower = open(database, clock);
    const stop = await startServices(follower.services);
    stops.push(stop);
    const resets = collect(follower.events, 'feed.reset');
    const cli = open(database, clock);
    await cli.services.users.create(CLI_CONTEXT, {
      username: 'early',
      password: STRONG_PASSWORD,
      role: 'viewer',
    });
    await until(() => expect(follower.services.changes.status().lastId).toBeGreaterThan(0));
    expect(await follower.services.access.subject('early')).not.toBeNull();
    // The follower stops reading; two more changes are appended and the older one is pruned.
    await stop();
    stops.pop();
    await cli.services.users.deactivate(CLI_CONTEXT, 'early');
    await cli.services.users.create(CLI_CONTEXT, {
      username: 'later',
      password: STRONG_PASSWORD,
      role: 'viewer',
    });
    expect(await pruneChanges(database.db, Date.now() + 1)).toBeGreaterThan(0);
    stops.push(await startServices(follower.services));
    // Following again continues where it stopped: the deactivation was pruned unread, so everything is dropped.
    expect(resets).toHaveLength(1);
    expect(await follower.services.access.subject('early')).toBeNull();
    expect(await follower.services.access.subject('later')).not.toBeNull();
  });
});

describe('change feed: a follower cut off from PostgreSQL', () => {
  const url = postgresUrl();
  let database: TestDatabase | undefined;
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await database?.destroy();
  });

  it.skipIf(url === null)(
    'fails closed while its notification connection is down, then catches up',
    async () => {
      database = await createTestDatabase('postgres');
      const follower = await serving(database);
      stops.push(follower.stop);
      const seen = collect(follower.events, 'user.changed');
      const admin = new pg.Client({ connectionString: url as string });
      await admin.connect();
      try {
        // Cut the follower's LISTEN connection (only this test's schema's), as a network failure would.
        const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(
          database.db,
        );
        const terminated = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where query = $1',
          [`listen "warden_changes_${rows[0]?.schema}"`],
        );
        expect(terminated.rowCount).toBe(1);
        await until(() => expect(follower.services.changes.trustworthy()).toBe(false));
        const app = await buildApp({ services: follower.services });
        stops.push(() => app.close());
        const ready = await app.inject({ method: 'GET', url: '/readyz' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({ code: 'server.unavailable' });
        const refused = await follower.services.mqttAuth.authenticate({
          username: 'admin',
          password: Buffer.from('anything'),
          clientId: 'c',
          ip: '127.0.0.1',
        });
        expect(refused).toMatchObject({ ok: false, reason: 'unavailable' });
        // Changes made meanwhile arrive once the follower is back.
        const cli = open(database);
        await cli.services.users.create(CLI_CONTEXT, {
          username: 'meanwhile',
          password: STRONG_PASSWORD,
          role: 'viewer',
        });
        await until(() => expect(follower.services.changes.trustworthy()).toBe(true), 15_000);
        expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
        await until(() => expect(seen.map((event) => event.username)).toContain('meanwhile'));
      } finally {
        await admin.end();
      }
    },
  );
});
