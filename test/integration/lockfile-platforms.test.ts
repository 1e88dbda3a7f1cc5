import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's `npm ci && npm start` and `npm test` must work on every platform people develop and deploy
// on. `npm ci` installs only what package-lock.json names, so the lockfile must carry each dependency's prebuilt
// binary for each platform below, not just the one it was generated on (see docs/dependencies.md). This test
// reads package-lock.json and the installed packages' package.json: no network, no install.

/** The fields of a package-lock.json (lockfileVersion 3) `packages` entry that this test reads. */
interface LockEntry {
  readonly version?: string;
  readonly optional?: boolean;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

interface Platform {
  readonly os: string;
  readonly cpu: string;
  /** Only Linux has a libc in npm's platform check; npm leaves it unset elsewhere. */
  readonly libc?: 'glibc' | 'musl';
}

const PLATFORMS: readonly Platform[] = [
  { os: 'linux', cpu: 'x64', libc: 'glibc' },
  { os: 'linux', cpu: 'x64', libc: 'musl' },
  { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  { os: 'linux', cpu: 'arm64', libc: 'musl' },
  { os: 'darwin', cpu: 'x64' },
  { os: 'darwin', cpu: 'arm64' },
  { os: 'win32', cpu: 'x64' },
];

/** Dependencies known to ship their native code as one optional package per platform. */
const KNOWN_FAMILIES = ['@biomejs/biome', 'esbuild', 'rollup', '@node-rs/argon2'];

// fsevents is macOS's native file watcher, an optional extra for watchers (Vite, tsx, Rollup) that fall back to
// node:fs elsewhere; it has no counterpart on other platforms, so it does not make its parent a per-platform family.
const NOT_PER_PLATFORM = new Set(['fsevents']);

const ROOT = path.resolve(import.meta.dirname, '../..');

function readLockPackages(): Record<string, LockEntry> {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    lockfileVersion: number;
    packages: Record<string, LockEntry>;
  };
  expect(lock.lockfileVersion).toBe(3);
  return lock.packages;
}

/** The lockfile key `name` resolves to from the package at `fromKey`, the way Node walks up node_modules. */
function resolveKey(packages: Record<string, LockEntry>, fromKey: string, name: string): string | undefined {
  let base = fromKey;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const up = base.lastIndexOf('/node_modules/');
    base = up === -1 ? '' : base.slice(0, up);
  }
}

/** npm's own rule (npm-install-checks): none of the `!negated` values, and one of the plain ones if any. */
function listAllows(list: readonly string[] | undefined, value: string | undefined): boolean {
  if (!list || (list.length === 1 && list[0] === 'any')) return true;
  if (value === undefined) return false;
  const plain = list.filter((entry) => !entry.startsWith('!'));
  if (list.some((entry) => entry === `!${value}`)) return false;
  return plain.length === 0 || plain.includes(value);
}

function installsOn(entry: LockEntry, platform: Platform): boolean {
  return (
    listAllows(entry.os, platform.os) &&
    listAllows(entry.cpu, platform.cpu) &&
    listAllows(entry.libc, platform.libc)
  );
}

function label(platform: Platform): string {
  return [platform.os, platform.cpu, platform.libc].filter(Boolean).join('-');
}

/** Lockfile keys of packages whose optional dependencies are per-platform builds. */
function platformFamilies(packages: Record<string, LockEntry>): string[] {
  const families = new Set(KNOWN_FAMILIES.map((name) => `node_modules/${name}`));
  for (const [key, entry] of Object.entries(packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (NOT_PER_PLATFORM.has(name)) continue;
      const childKey = resolveKey(packages, key, name);
      const child = childKey ? packages[childKey] : undefined;
      if (child?.os || child?.cpu) families.add(key);
    }
  }
  return [...families].sort();
}

describe('package-lock.json serves npm ci on every common platform, not only on Linux x64', () => {
  const packages = readLockPackages();
  const families = platformFamilies(packages);

  it('finds the known per-platform dependencies (Biome, esbuild, Rollup, argon2) in the lockfile', () => {
    for (const name of KNOWN_FAMILIES) expect(packages[`node_modules/${name}`], name).toBeDefined();
  });

  it.each(families)(
    '%s has an optional build for linux x64/arm64 (glibc and musl), darwin x64/arm64, win32 x64',
    (key) => {
      const parent = packages[key] as LockEntry;
      const missing: string[] = [];
      for (const platform of PLATFORMS) {
        const builds = Object.keys(parent.optionalDependencies ?? {}).filter((name) => {
          if (NOT_PER_PLATFORM.has(name)) return false;
          const childKey = resolveKey(packages, key, name);
          const child = childKey ? packages[childKey] : undefined;
          return child?.optional === true && installsOn(child, platform);
        });
        if (builds.length === 0) missing.push(label(platform));
      }
      expect(missing, `${key}: no optional build in package-lock.json for these platforms`).toEqual([]);
    },
  );

  it.each(families)('%s lists every optional dependency its published package.json declares', (key) => {
    // node_modules holds the package as published; a lockfile entry whose optionalDependencies were filtered
    // down to some platforms hides the other platforms' builds from `npm ci` there.
    const installed = path.join(ROOT, key, 'package.json');
    const published = JSON.parse(fs.readFileSync(installed, 'utf8')) as LockEntry;
    const locked = packages[key] as LockEntry;
    expect(published.version, `${installed} is not the locked version: run npm ci`).toBe(locked.version);
    expect(Object.keys(locked.optionalDependencies ?? {}).sort()).toEqual(
      Object.keys(published.optionalDependencies ?? {}).sort(),
    );
  });
});
