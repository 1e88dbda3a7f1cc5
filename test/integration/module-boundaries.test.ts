import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Guards the module boundaries of docs/architecture.md: every table has one owning module, and SQL on a table
 * (Kysely builders or raw `sql` templates) appears only in its owner — apart from the read-only joins declared
 * below with their reason. No module imports another module's repository: it calls that module's service.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Table → the module that owns it (the only one that may write it, and read it without a declaration). */
const OWNERS: Record<string, string> = {
  users: 'users',
  user_counts: 'users',
  user_list_generation: 'users',
  users_search: 'users',
  password_history: 'users',
  sessions: 'sessions',
  user_mfa: 'mfa',
  recovery_codes: 'mfa',
  login_throttle: 'throttle',
  audit_events: 'audit',
  settings: 'settings',
  access_roles: 'access-roles',
  user_access_roles: 'access-roles',
  broker_integrations: 'brokers',
  broker_credentials: 'brokers',
  broker_password_sync: 'brokers',
  change_feed: 'change-feed',
  duty_holders: 'leadership',
  api_keys: 'api-keys',
  scrape_tokens: 'metrics',
  sso_providers: 'sso',
  certificate_authorities: 'certificates',
  issued_certificates: 'certificates',
  registry_state: 'registry',
  registry_requests: 'registry',
  registry_tokens: 'registry',
};

/** Source files outside src/modules/ that act for a module (its engine-specific SQL helpers). */
const ACTING_FOR: Record<string, string> = {
  'src/db/dialects/text-search.ts': 'users',
  // The change feed is infrastructure every module writes through (src/db/change-feed/), not a feature.
  'src/db/change-feed/change-feed.repository.ts': 'change-feed',
  // So is the election of the instance that runs the duties (src/db/leadership/).
  'src/db/leadership/leadership.repository.ts': 'leadership',
};

/** Read-only joins across a boundary, each with the reason it is not a call to the owner's service. */
const DECLARED_READS: ReadonlyArray<{ module: string; table: string; why: string }> = [
  {
    module: 'sessions',
    table: 'users',
    why: "live sessions are filtered by their user's idle timeout and role in one query (the cap, the lists)",
  },
  {
    module: 'brokers',
    table: 'users',
    why: 'which users a broker lacks a current password for is one anti-join over all users',
  },
  {
    module: 'api-keys',
    table: 'users',
    why: 'a page of API keys names each owner and filters by owner name in one query',
  },
];

interface TableReference {
  readonly file: string;
  readonly module: string;
  readonly table: string;
  readonly write: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The module a source file belongs to (`users` for src/modules/users/…), or null for shared code. */
function moduleOf(file: string): string | null {
  const relative = path.relative(ROOT, file).split(path.sep).join('/');
  if (ACTING_FOR[relative]) return ACTING_FOR[relative];
  const match = /^src\/modules\/([^/]+)\//.exec(relative);
  return match ? (match[1] as string) : null;
}

const BUILDER =
  /\b(selectFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto|innerJoin|leftJoin|rightJoin|fullJoin)\(\s*'([a-z_]+)/g;
const WRITES = new Set(['insertInto', 'replaceInto', 'updateTable', 'deleteFrom', 'mergeInto']);
const RAW_TEMPLATE = /\bsql(?:<[^>]*>)?`([^`]*)`/g;
const RAW_TABLE = /\b(delete\s+from|from|into|update|join|table)\s+([a-z_]+)\b|\b([a-z_]+)\.[a-z_]+\b/gi;

/** Every reference to a known table in `text` (pure, so the scanner itself can be tested). */
function tableReferences(file: string, module: string, text: string): TableReference[] {
  const found: TableReference[] = [];
  for (const [, call, table] of text.matchAll(BUILDER)) {
    if (table && OWNERS[table]) found.push({ file, module, table, write: WRITES.has(call as string) });
  }
  for (const [, body] of text.matchAll(RAW_TEMPLATE)) {
    for (const [, keyword, named, qualified] of (body ?? '').matchAll(RAW_TABLE)) {
      const table = named ?? qualified;
      if (table && OWNERS[table]) {
        const write = keyword !== undefined && /^(delete|into|update|table)/i.test(keyword);
        found.push({ file, module, table, write });
      }
    }
  }
  return found;
}

function allReferences(): TableReference[] {
  const files = sourceFiles(path.join(ROOT, 'src')).filter(
    (file) => !file.includes(`${path.sep}migrations${path.sep}`),
  );
  return files.flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    return tableReferences(path.relative(ROOT, file), moduleOf(file) ?? '(shared)', text);
  });
}

describe('module boundaries', () => {
  it('every table of the schema has an owning module', () => {
    const schema = fs.readFileSync(path.join(ROOT, 'src/db/schema.ts'), 'utf8');
    const body = schema.slice(schema.indexOf('export interface Database'));
    const tables = [...body.matchAll(/^\s+([a-z_]+): \w+;$/gm)].map((match) => match[1] as string);
    expect(tables.length).toBeGreaterThan(10);
    for (const table of tables) expect(OWNERS[table], `owner of ${table}`).toBeDefined();
  });

  it('the scanner sees builder calls and raw SQL, writes told from reads (so the rules below can fail)', () => {
    const sample = [
      "db.updateTable('users').set({})",
      "db.selectFrom('sessions as s').innerJoin('users as u', 'u.id', 's.user_id')",
      'sql`delete from recovery_codes where user_id = ${id}`',
      'sql`users.username_lower`',
    ].join('\n');
    expect(tableReferences('x.ts', 'audit', sample)).toEqual([
      { file: 'x.ts', module: 'audit', table: 'users', write: true },
      { file: 'x.ts', module: 'audit', table: 'sessions', write: false },
      { file: 'x.ts', module: 'audit', table: 'users', write: false },
      { file: 'x.ts', module: 'audit', table: 'recovery_codes', write: true },
      { file: 'x.ts', module: 'audit', table: 'users', write: false },
    ]);
    // Every owner is seen touching each of its tables: a scanner that found nothing would pass vacuously.
    const seen = new Set(allReferences().map((ref) => `${ref.module}:${ref.table}`));
    for (const [table, owner] of Object.entries(OWNERS))
      expect(seen, `${owner} uses ${table}`).toContain(`${owner}:${table}`);
  });

  it('only the owner writes a table', () => {
    const foreignWrites = allReferences()
      .filter((ref) => ref.write && ref.module !== OWNERS[ref.table])
      .map((ref) => `${ref.file} writes ${ref.table} (owned by ${OWNERS[ref.table]})`);
    expect(foreignWrites).toEqual([]);
  });

  it('reads of another module’s table are declared joins', () => {
    const undeclared = allReferences()
      .filter(
        (ref) =>
          !ref.write &&
          ref.module !== OWNERS[ref.table] &&
          !DECLARED_READS.some((read) => read.module === ref.module && read.table === ref.table),
      )
      .map((ref) => `${ref.file} reads ${ref.table} (owned by ${OWNERS[ref.table]})`);
    expect(undeclared).toEqual([]);
  });

  it('no module imports another module’s repository', () => {
    const crossings: string[] = [];
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      const module = moduleOf(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/from '([^']+\.repository\.js)'/g)) {
        const target = path.resolve(path.dirname(file), specifier as string);
        const owner = moduleOf(target);
        if (owner !== module) crossings.push(`${path.relative(ROOT, file)} imports ${specifier}`);
      }
    }
    expect(crossings).toEqual([]);
  });
});
