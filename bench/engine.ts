// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule topics spell the placeholders ${username} / ${clientid} literally
/**
 * Access-rule engine benchmark: 100,000 users × 10 rules (literal, `+`, `#`, `${username}` / `${clientid}`
 * placeholders, denies), topics Zipf-distributed (s = 1.1). Two variants: users sharing a few hundred role
 * lists (real deployments) and every user with a unique role list (worst case for memory and compile time).
 * Measures, in one run, decisions/s and p99 latency of `decide` against the naive reference, and the memory
 * the compiled structures add; prints a markdown table and writes it to docs/performance.md.
 *
 * Run: npm run bench:engine  (= node --expose-gc --import tsx bench/engine.ts; BENCH_USERS to scale).
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AccessRequest,
  type AccessRule,
  type CompiledRuleSet,
  compileRoles,
  decide,
  type Identity,
  type RoleRules,
} from '../src/modules/access-engine/index.js';
import { naiveDecide, seededRandom } from '../test/helpers/naive-access-reference.js';
import { machineLine, percentile } from './lib/stats.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const SHARED_ROLE_LISTS = 300;
const QUERIES = 1_000_000;
const NAIVE_QUERIES = 100_000;
const BATCH = 1_000;
const NAIVE_BATCH = 100;
const ZIPF_S = 1.1;
const TOPIC_TEMPLATES = 5_000;
/** Timed passes of ours over the queries; the fastest counts. */
const PASSES = 5;
const GOALS = { speedup: 5, decisionsPerSecond: 1_000_000, p99Micros: 5, megabytes: 100 };

const random = seededRandom(42);
const int = (n: number): number => Math.floor(random() * n);

interface User {
  readonly identity: Identity;
  /** The literal site id the user's roles mention (shared by all users of a role list, or unique). */
  readonly site: string;
  readonly roles: readonly RoleRules[];
}

/** What a broker hook holds when it asks: the connection's user and compiled set, and the request. */
interface Query {
  readonly user: User;
  readonly set: CompiledRuleSet;
  readonly request: AccessRequest;
}

/** Ten rules per user: a site role (literals, `+`, `#`, denies) and a device role (placeholders). */
function roleList(site: string): RoleRules[] {
  const siteRules: AccessRule[] = [
    { permission: 'deny', action: 'all', topic: `site/${site}/+/secret/#` },
    { permission: 'allow', action: 'all', topic: `site/${site}/line/+/status` },
    { permission: 'deny', action: 'publish', topic: `site/${site}/line/+/cmd` },
    { permission: 'allow', action: 'subscribe', topic: `site/${site}/#`, qos: [0, 1] },
    { permission: 'allow', action: 'subscribe', topic: 'alerts/+' },
  ];
  const deviceRules: AccessRule[] = [
    { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
    { permission: 'allow', action: 'publish', topic: 'dt/${username}/state', retain: true },
    { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
    { permission: 'allow', action: 'publish', topic: `tele/${site}-\${username}/+` },
    { permission: 'deny', action: 'all', topic: '$SYS/#' },
  ];
  return [
    { name: `site-${site}`, rules: siteRules },
    { name: 'device', rules: deviceRules },
  ];
}

function makeUsers(uniqueRoleLists: boolean): User[] {
  const shared = uniqueRoleLists
    ? []
    : Array.from({ length: SHARED_ROLE_LISTS }, (_, i) => roleList(`s${i}`));
  return Array.from({ length: USERS }, (_, i) => {
    const list = uniqueRoleLists ? i : int(SHARED_ROLE_LISTS);
    const site = `s${list}`;
    const identity = { username: `dev-${i}`, clientid: `dev-${i}-c${i % 3}` };
    return { identity, site, roles: uniqueRoleLists ? roleList(site) : (shared[list] as RoleRules[]) };
  });
}

type TopicTemplate = (user: User) => AccessRequest;

/** Topic shapes hitting every rule, plus misses; `k` varies the free levels so templates are distinct. */
function topicTemplates(): TopicTemplate[] {
  const name = (action: 'publish' | 'receive', topic: (u: User) => string, retain = false): TopicTemplate => {
    return (u) => ({ action, topic: topic(u), qos: 1, retain });
  };
  const shapes: ((k: number) => TopicTemplate)[] = [
    (k) => name('publish', (u) => `dt/${u.identity.username}/sensor${k}/up`),
    (k) => name('publish', (u) => `dt/${u.identity.username}/state`, k % 2 === 0),
    (k) => name('receive', (u) => `cmd/${u.identity.clientid}/op${k}`),
    (k) => name('receive', (u) => `site/${u.site}/line/${k}/status`),
    (k) => name('publish', (u) => `site/${u.site}/line/${k}/cmd`),
    (k) => name('receive', (u) => `site/${u.site}/area${k}/secret/x`),
    (k) => name('publish', (u) => `tele/${u.site}-${u.identity.username}/m${k}`),
    (k) => name('receive', () => `alerts/a${k}`),
    (k) => name('receive', () => `$SYS/broker/load/${k}`),
    (k) => name('publish', () => `other/${k}/x`),
    (k) => name('publish', () => `dt/dev-x${k}/sensor/up`),
    (k) => () => ({ action: 'subscribe', topic: k % 2 ? 'alerts/+' : 'alerts/#', qos: 0 }),
    (k) => (u) => ({
      action: 'subscribe',
      topic: k % 7 ? `site/${u.site}/line/+/status` : `site/${u.site}/line/#`,
      qos: 1,
    }),
    () => (u) => ({ action: 'subscribe', topic: `cmd/${u.identity.clientid}/#`, qos: 1 }),
  ];
  const templates = Array.from({ length: TOPIC_TEMPLATES }, (_, i) =>
    (shapes[i % shapes.length] as (k: number) => TopicTemplate)(Math.floor(i / shapes.length)),
  );
  // rank order decides popularity: shuffle so every shape has popular and rare members
  for (let i = templates.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [templates[i], templates[j]] = [templates[j] as TopicTemplate, templates[i] as TopicTemplate];
  }
  return templates;
}

/** Samples ranks 0..n-1 with P(k) ∝ 1/(k+1)^s. */
function zipf(n: number, s: number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function makeQueries(
  users: readonly User[],
  sets: readonly CompiledRuleSet[],
  templates: readonly TopicTemplate[],
): Query[] {
  const rank = zipf(templates.length, ZIPF_S);
  return Array.from({ length: QUERIES }, () => {
    const index = int(users.length);
    const user = users[index] as User;
    return { user, set: sets[index] as CompiledRuleSet, request: (templates[rank()] as TopicTemplate)(user) };
  });
}

interface Memory {
  heap: number;
  rss: number;
}

function memory(): Memory {
  global.gc?.();
  global.gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external, rss: usage.rss };
}

const megabytes = (bytes: number): number => bytes / 2 ** 20;

interface CompileResult {
  sets: CompiledRuleSet[];
  distinct: number;
  compileMs: number;
  heapMB: number;
  rssMB: number;
}

/** Compiles once per distinct role list (keyed like the service does) and hands each user its set. */
function compileAll(users: readonly User[]): CompileResult {
  const before = memory();
  const started = performance.now();
  const byList = new Map<readonly RoleRules[], CompiledRuleSet>();
  const sets = users.map((user) => {
    let set = byList.get(user.roles);
    if (set === undefined) {
      set = compileRoles(user.roles);
      byList.set(user.roles, set);
    }
    return set;
  });
  const compileMs = performance.now() - started;
  const after = memory();
  return {
    sets,
    distinct: byList.size,
    compileMs,
    heapMB: megabytes(after.heap - before.heap),
    rssMB: megabytes(after.rss - before.rss),
  };
}

/** Rate and per-decision latency percentiles by one clock. */
interface Clocked {
  perSecond: number;
  p50Micros: number;
  p99Micros: number;
}

/**
 * By the wall clock, and by this process's CPU time: on a shared machine the wall clock also counts the time
 * other processes held the core, CPU time only the time this one ran ("on one core").
 */
interface Timing {
  wall: Clocked;
  cpu: Clocked;
}

type Decider = (query: Query) => boolean;

function clocked(perDecision: number[]): Clocked {
  const totalMicros = perDecision.reduce((sum, value) => sum + value, 0);
  return {
    perSecond: (perDecision.length * 1e6) / totalMicros,
    p50Micros: percentile(perDecision, 50),
    p99Micros: percentile(perDecision, 99),
  };
}

/**
 * Times `decider` over `queries` in batches of `batch`, `passes` times, and keeps the pass with the best CPU
 * rate. Latencies are per decision (batch time / batch size).
 */
function time(decider: Decider, queries: readonly Query[], batch: number, passes: number): Timing {
  let best: Timing | null = null;
  let allowed = 0;
  for (const query of queries.slice(0, 10_000)) if (decider(query)) allowed++; // warm-up
  for (let pass = 0; pass < passes; pass++) {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let from = 0; from + batch <= queries.length; from += batch) {
      const cpuStart = process.cpuUsage();
      const started = process.hrtime.bigint();
      for (let i = from; i < from + batch; i++) if (decider(queries[i] as Query)) allowed++;
      wall.push(Number(process.hrtime.bigint() - started) / 1e3 / batch);
      const used = process.cpuUsage(cpuStart);
      cpu.push((used.user + used.system) / batch);
    }
    const timing = { wall: clocked(wall), cpu: clocked(cpu) };
    if (best === null || timing.cpu.perSecond > best.cpu.perSecond) best = timing;
  }
  if (allowed < 0 || best === null) throw new Error('unreachable: keeps the decisions observable');
  return best;
}

/** p99 of single calls timed one by one (includes the timer's own cost, reported separately). */
function singleCallP99(
  decider: Decider,
  queries: readonly Query[],
): { p99Micros: number; timerMicros: number } {
  const samples: number[] = [];
  const timer: number[] = [];
  for (const query of queries.slice(0, 200_000)) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    decider(query);
    const t2 = process.hrtime.bigint();
    timer.push(Number(t1 - t0) / 1e3);
    samples.push(Number(t2 - t1) / 1e3);
  }
  return { p99Micros: percentile(samples, 99), timerMicros: percentile(timer, 50) };
}

interface VariantResult {
  label: string;
  /** Share of publish / receive / subscribe requests, in percent. */
  mix: string;
  compile: CompileResult;
  ours: Timing;
  single: { p99Micros: number; timerMicros: number };
  naive: Timing;
  disagreements: number;
}

function runVariant(
  label: string,
  uniqueRoleLists: boolean,
  templates: readonly TopicTemplate[],
): VariantResult {
  const users = makeUsers(uniqueRoleLists);
  const compile = compileAll(users);
  const queries = makeQueries(users, compile.sets, templates);
  const ours: Decider = (q) => decide(q.set, q.user.identity, q.request).allowed;
  const naive: Decider = (q) => naiveDecide(q.user.roles, q.user.identity, q.request).allowed;
  const naiveQueries = queries.slice(0, NAIVE_QUERIES);
  let disagreements = 0;
  for (const query of naiveQueries) if (ours(query) !== naive(query)) disagreements++;
  const share = (action: AccessRequest['action']): string =>
    n((100 * queries.filter((q) => q.request.action === action).length) / queries.length);
  const result = {
    label,
    mix: `${share('publish')}% publish, ${share('receive')}% receive, ${share('subscribe')}% subscribe`,
    compile,
    ours: time(ours, queries, BATCH, PASSES),
    single: singleCallP99(ours, queries),
    naive: time(naive, naiveQueries, NAIVE_BATCH, 1),
    disagreements,
  };
  console.error(`${label}: done`);
  return result;
}

const n = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function verdict(ok: boolean, miss: string): string {
  return ok ? 'met' : `**missed** (${miss})`;
}

/** A markdown table padded the way the formatter (Biome) writes it, so docs stay stable under `format`. */
function markdownTable(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, column) =>
    Math.max(3, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const [header = [], ...body] = rows;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

function report(results: readonly VariantResult[], loadBefore: number, loadAfter: number): string {
  const rows = results.map((r) => [
    r.label,
    n(r.compile.distinct),
    n(r.compile.compileMs),
    `${n(r.compile.heapMB, 1)} / ${n(r.compile.rssMB, 1)}`,
    `${n(r.ours.cpu.perSecond)} / ${n(r.ours.wall.perSecond)}`,
    `${n(r.ours.cpu.p50Micros, 2)} / ${n(r.ours.cpu.p99Micros, 2)}`,
    `${n(r.ours.wall.p50Micros, 2)} / ${n(r.ours.wall.p99Micros, 2)}`,
    n(r.single.p99Micros, 2),
    `${n(r.naive.cpu.perSecond)} / ${n(r.naive.wall.perSecond)}`,
    n(r.naive.cpu.p99Micros, 1),
    `${n(r.ours.cpu.perSecond / r.naive.cpu.perSecond, 1)}×`,
    n(r.disagreements),
  ]);
  const header = [
    'variant',
    'compiled sets',
    'compile ms',
    'added heap / RSS MB',
    'ours decisions/s CPU / wall',
    'ours p50 / p99 µs CPU',
    'ours p50 / p99 µs wall',
    'ours p99 µs single call (wall)',
    'naive decisions/s CPU / wall',
    'naive p99 µs CPU',
    'speed-up (CPU)',
    'disagreements',
  ];
  const table = markdownTable([header, ...rows]);

  const goals = results.map((r) => {
    const speedup = r.ours.cpu.perSecond / r.naive.cpu.perSecond;
    const checks = [
      `speed-up ≥ ${GOALS.speedup}×: ${verdict(speedup >= GOALS.speedup, `${n(speedup, 1)}×`)}`,
      `≥ 1M decisions/s on one core: ${verdict(
        r.ours.cpu.perSecond >= GOALS.decisionsPerSecond,
        `${n(r.ours.cpu.perSecond)}/s, ${n(r.ours.cpu.perSecond / GOALS.decisionsPerSecond, 2)}× the goal`,
      )}`,
      `p99 ≤ ${GOALS.p99Micros} µs: ${verdict(
        r.ours.cpu.p99Micros <= GOALS.p99Micros,
        `${n(r.ours.cpu.p99Micros, 2)} µs, ${n(r.ours.cpu.p99Micros / GOALS.p99Micros, 1)}× the goal`,
      )}`,
      `≤ ${GOALS.megabytes} MB: ${verdict(
        r.compile.heapMB <= GOALS.megabytes,
        `${n(r.compile.heapMB, 1)} MB, ${n(r.compile.heapMB / GOALS.megabytes, 1)}× the goal`,
      )}`,
    ];
    return `- ${r.label}: ${checks.join('; ')}.`;
  });
  const timer = Math.max(...results.map((r) => r.single.timerMicros));
  return [
    `Machine: ${machineLine()}; 1-minute load average ${n(loadBefore, 1)} at the start, ${n(loadAfter, 1)} at the end.`,
    `${n(USERS)} users × 10 rules, ${n(QUERIES)} queries (naive: the first ${n(NAIVE_QUERIES)}), topics from`,
    `${n(TOPIC_TEMPLATES)} shapes with Zipf s = ${ZIPF_S} (${results[0]?.mix}); ours: best of ${PASSES} passes.`,
    `Single-call timings include the timer itself (about ${n(timer, 2)} µs per reading).`,
    '',
    table,
    '',
    'Goals (rates and p99 by CPU time, i.e. on one core):',
    '',
    ...goals,
  ].join('\n');
}

function writeSection(body: string): void {
  const file = path.join(import.meta.dirname, '..', 'docs', 'performance.md');
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Performance\n';
  const heading = '## Access engine';
  const section = `${heading}\n\n${ACCESS_ENGINE_NOTES}\n\n${body}\n`;
  const start = existing.indexOf(`${heading}\n`);
  if (start === -1) {
    fs.writeFileSync(file, `${existing.trimEnd()}\n\n${section}`);
    return;
  }
  const next = existing.indexOf('\n## ', start + heading.length);
  const rest = next === -1 ? '' : `\n${existing.slice(next + 1)}`;
  fs.writeFileSync(file, `${existing.slice(0, start)}${section}${rest}`);
}

const ACCESS_ENGINE_NOTES = [
  '`npm run bench:engine` (bench/engine.ts) times `decide` (src/modules/access-engine) against the naive',
  'reference of the differential test (test/helpers/naive-access-reference.ts) on the same queries. Each query',
  "holds the connection's identity and compiled set, as a broker hook does. Rates and p50/p99 latencies are",
  'per decision over batches of 1,000 (naive: 100), by CPU time of the process ("on one core") and by the wall',
  'clock, which on a shared machine also counts the time other processes held the core (see the load',
  'average). The single-call p99 times each call with `process.hrtime.bigint()`. "Added heap" is `heapUsed +',
  "external` after a forced GC, before vs after compiling every user's role list (one compiled set per",
  'distinct list, as the service caches them); the input rule objects are not counted.',
  '',
  'Reading the numbers:',
  '',
  '- A compiled 10-rule set takes about 4 KB (about 20 trie nodes, two Maps, three placeholder edges, rule',
  '  metadata, level strings). Users sharing role lists cost one reference each; a unique list per user',
  '  multiplies the sets, which is why that variant misses the 100 MB goal. In practice express per-user',
  '  differences with `${username}` / `${clientid}` (one set serves everyone) and bound `CompiledRuleCache`',
  '  (`maxEntries`): memory is then entries × set size, not users × set size. Meeting 100 MB with truly',
  '  unique lists would take a flat typed-array trie (about 1 KB per set).',
  '- With unique lists every query walks a different, cold trie: the decision time is then mostly cache',
  '  misses, hence the lower rate of that variant.',
  '- The queries are pre-generated (1,000,000 distinct topic strings, 100,000 identities touched at',
  '  random), so each decision also pays memory misses a broker, which has just parsed the packet, would not.',
].join('\n');

if (global.gc === undefined) console.error('run with node --expose-gc for exact memory numbers');
const loadBefore = os.loadavg()[0] ?? 0;
const templates = topicTemplates();
const results = [
  runVariant('shared role lists', false, templates),
  runVariant('unique role list per user', true, templates),
];
const body = report(results, loadBefore, os.loadavg()[0] ?? 0);
console.log(body);
writeSection(body);
