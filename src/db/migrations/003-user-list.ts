import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: never import application code here, never change this file once released.
//
// Listing a million users fast needs what the plain table cannot give:
//  1. totals without counting: `user_counts` keeps the number of users per (role, active), maintained by
//     triggers so that every write path (service, CLI, import, manual SQL) keeps it exact;
//  2. a generation number that changes whenever a user appears, disappears or changes role or status, so that
//     cached positions in the sorted list (deep-page marks) know when they are stale;
//  3. case-insensitive substring search through an index: trigram indexes (pg_trgm GIN on PostgreSQL, an FTS5
//     trigram table on SQLite).

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('user_counts')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_counts_pk', ['role', 'active'])
    .execute();
  await sql`insert into user_counts (role, active, n) select role, active, count(*) from users group by role, active`.execute(
    db,
  );
  await db.schema
    .createTable('user_list_generation')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into user_list_generation (id, generation) values (1, 0)`.execute(db);
  const bump = 'update user_list_generation set generation = generation + 1 where id = 1';

  if (isPostgres) {
    // Statement-level triggers with transition tables: a bulk load updates each counter once per statement,
    // instead of rewriting the same counter row once per user (which degrades quadratically in one transaction).
    const apply = (select: string) =>
      `insert into user_counts (role, active, n) ${select} on conflict (role, active) do update set n = user_counts.n + excluded.n`;
    const changed =
      'from old_rows o join new_rows w on w.id = o.id where w.role <> o.role or w.active <> o.active';
    const triggers = [
      [
        'insert',
        `${apply('select role, active, count(*) from new_rows group by role, active')}; ${bump}`,
        'new table as new_rows',
      ],
      [
        'delete',
        `${apply('select role, active, -count(*) from old_rows group by role, active')}; ${bump}`,
        'old table as old_rows',
      ],
      [
        'update',
        // Most updates (logins, descriptions) change neither role nor status and must not touch the counters.
        `${apply(`select o.role, o.active, -count(*) ${changed} group by o.role, o.active`)};
         if found then
           ${apply(`select w.role, w.active, count(*) ${changed} group by w.role, w.active`)};
           ${bump};
         end if`,
        'old table as old_rows new table as new_rows',
      ],
    ] as const;
    for (const [event, body, transition] of triggers) {
      await sql
        .raw(`create function warden_user_counts_${event}() returns trigger language plpgsql as $$
          begin ${body}; return null; end $$`)
        .execute(db);
      await sql
        .raw(`create trigger users_counts_${event} after ${event} on users referencing ${transition}
          for each statement execute function warden_user_counts_${event}()`)
        .execute(db);
    }
    // pg_trgm is a trusted extension (PostgreSQL 13+); where it cannot be created, search still works by scanning.
    const available = await sql<{
      ok: number;
    }>`select 1 as ok from pg_available_extensions where name = 'pg_trgm'`.execute(db);
    if (available.rows.length > 0) {
      await sql`savepoint warden_trgm`.execute(db);
      try {
        await sql`create extension if not exists pg_trgm with schema public`.execute(db);
        // The operator class lives in the extension's schema, which need not be on this search_path.
        const { rows } = await sql<{
          schema: string;
        }>`select extnamespace::regnamespace::text as schema from pg_extension where extname = 'pg_trgm'`.execute(
          db,
        );
        const opclass = `${rows[0]?.schema ?? 'public'}.gin_trgm_ops`;
        await sql
          .raw(`create index users_username_trgm on users using gin (username_lower ${opclass})`)
          .execute(db);
        await sql
          .raw(`create index users_email_trgm on users using gin (email_lower ${opclass})`)
          .execute(db);
        await sql`release savepoint warden_trgm`.execute(db);
      } catch {
        await sql`rollback to savepoint warden_trgm`.execute(db);
      }
    }
    return;
  }

  const increment =
    'insert into user_counts (role, active, n) values (new.role, new.active, 1) on conflict (role, active) do update set n = n + 1;';
  const decrement = 'update user_counts set n = n - 1 where role = old.role and active = old.active;';
  for (const [name, event, body] of [
    ['users_counts_insert', 'after insert on users', `${increment} ${bump};`],
    ['users_counts_delete', 'after delete on users', `${decrement} ${bump};`],
    [
      'users_counts_update',
      'after update of role, active on users when old.role <> new.role or old.active <> new.active',
      `${decrement} ${increment} ${bump};`,
    ],
  ] as const) {
    await sql.raw(`create trigger ${name} ${event} begin ${body} end`).execute(db);
  }
  // A self-contained FTS5 copy keyed by user id (not by rowid, which VACUUM may renumber).
  await sql`create virtual table users_search using fts5(user_id unindexed, username_lower, email_lower, tokenize = 'trigram')`.execute(
    db,
  );
  await sql`insert into users_search (user_id, username_lower, email_lower) select id, username_lower, coalesce(email_lower, '') from users`.execute(
    db,
  );
  for (const [name, event, body] of [
    [
      'users_search_insert',
      'after insert',
      `insert into users_search (user_id, username_lower, email_lower) values (new.id, new.username_lower, coalesce(new.email_lower, ''));`,
    ],
    ['users_search_delete', 'after delete', 'delete from users_search where user_id = old.id;'],
    [
      'users_search_update',
      'after update of email_lower',
      `update users_search set email_lower = coalesce(new.email_lower, '') where user_id = new.id;`,
    ],
  ] as const) {
    await sql.raw(`create trigger ${name} ${event} on users begin ${body} end`).execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (isPostgres) {
    for (const event of ['insert', 'delete', 'update']) {
      await sql.raw(`drop trigger if exists users_counts_${event} on users`).execute(db);
      await sql.raw(`drop function if exists warden_user_counts_${event}()`).execute(db);
    }
    await sql`drop index if exists users_username_trgm`.execute(db);
    await sql`drop index if exists users_email_trgm`.execute(db);
  } else {
    for (const name of [
      'users_counts_insert',
      'users_counts_delete',
      'users_counts_update',
      'users_search_insert',
      'users_search_delete',
      'users_search_update',
    ]) {
      await sql.raw(`drop trigger if exists ${name}`).execute(db);
    }
    await sql`drop table if exists users_search`.execute(db);
  }
  await db.schema.dropTable('user_list_generation').execute();
  await db.schema.dropTable('user_counts').execute();
}
