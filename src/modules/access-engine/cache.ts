/**
 * A small versioned LRU cache of compiled rule sets for the service layer: key it by user or by ordered
 * role list, and bump the version when a role, a rule or an assignment changes.
 */

import type { CompiledRuleSet } from './compile.js';

export interface CompiledRuleCacheOptions {
  /** Most entries kept; the least recently used one is evicted beyond it. */
  readonly maxEntries: number;
}

interface Entry<T> {
  readonly version: number;
  readonly compiled: T;
}

/** Holds compiled MQTT rule sets by default; the access service keeps them with their compiled HTTP rules. */
export class CompiledRuleCache<T = CompiledRuleSet> {
  // a Map iterates in insertion order: re-inserting on every hit keeps the least recently used entry first
  readonly #entries = new Map<string, Entry<T>>();
  readonly #maxEntries: number;

  constructor(options: CompiledRuleCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError('CompiledRuleCache maxEntries must be a positive integer');
    }
    this.#maxEntries = options.maxEntries;
  }

  /** The compiled set stored under `key` for exactly this `version` (a hit marks it recently used). */
  get(key: string, version: number): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.version !== version) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.compiled;
  }

  /** Stores `compiled` under `key`, replacing any other version, and returns it. */
  set(key: string, version: number, compiled: T): T {
    this.#entries.delete(key);
    this.#entries.set(key, { version, compiled });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return compiled;
  }

  /** Drops the entry for `key` (e.g. a deleted user). */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
