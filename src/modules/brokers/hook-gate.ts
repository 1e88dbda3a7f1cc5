import type { Clock } from '../../core/clock.js';
import { TokenBucketLimiter } from '../../core/rate-limit/token-bucket.js';
import type { HookKind } from '../../integrations/broker-integration.js';
import type { HookIntegration } from '../../integrations/hooks/hook-integration.js';

/**
 * Sources that present wrong credentials are slowed down hard (a token is guessed one request at a time):
 * a burst of this many failures, then one per second.
 */
const FAILURE_BURST = 30;
const FAILURE_RATE = 1;

declare module 'fastify' {
  interface FastifyRequest {
    /** Hook routes only: the broker integration whose credential or network admitted the request. */
    hookIntegration: HookIntegration | null;
  }
}

/** The outcome of admitting one hook request. */
export type HookAdmission =
  | { readonly kind: 'admitted'; readonly integration: HookIntegration }
  | { readonly kind: 'refused' }
  | { readonly kind: 'throttled'; readonly retryAfterMs: number };

/** Minimal request view the gate needs (Fastify's request satisfies it). */
export interface HookRequestView {
  readonly ip: string;
  readonly headers: { readonly authorization?: string | undefined };
}

/**
 * The admission of broker hook requests, run by the access guard for routes declaring `{ kind: 'hook' }`
 * before anything else (no session lookup, no body parsing, no engine): per-source failure throttling, then
 * the credential/address check of each running integration of the route's kind (first match by name), then
 * that integration's per-source token bucket. Nothing here does I/O.
 */
export class HookGate {
  readonly #failures: TokenBucketLimiter;
  readonly #traffic = new WeakMap<HookIntegration, TokenBucketLimiter>();
  readonly #clock: Clock;
  #integrations: ReadonlyMap<HookKind, readonly HookIntegration[]> = new Map();

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#failures = new TokenBucketLimiter({
      ratePerSecond: FAILURE_RATE,
      burst: FAILURE_BURST,
      now: () => clock.now(),
    });
  }

  /** Replaces the set of running hook integrations (after a start, stop or settings change). */
  setIntegrations(integrations: readonly HookIntegration[]): void {
    const byKind = new Map<HookKind, HookIntegration[]>();
    for (const integration of [...integrations].sort((a, b) => a.name.localeCompare(b.name))) {
      const list = byKind.get(integration.kind) ?? [];
      list.push(integration);
      byKind.set(integration.kind, list);
    }
    this.#integrations = byKind;
  }

  #trafficOf(integration: HookIntegration): TokenBucketLimiter {
    let limiter = this.#traffic.get(integration);
    if (!limiter) {
      limiter = new TokenBucketLimiter({
        ratePerSecond: integration.hook.ratePerSecond,
        burst: integration.hook.burst,
        now: () => this.#clock.now(),
      });
      this.#traffic.set(integration, limiter);
    }
    return limiter;
  }

  /** Admits or refuses one request to a `kind` hook; the guard keeps the admitting integration on the request. */
  admit(kind: HookKind, request: HookRequestView): HookAdmission {
    const penalty = this.#failures.peek(request.ip);
    if (penalty > 0) return { kind: 'throttled', retryAfterMs: penalty };
    const authorization = request.headers.authorization;
    for (const integration of this.#integrations.get(kind) ?? []) {
      const verdict = integration.check.verdict(request.ip, authorization);
      if (verdict !== 'credential' && verdict !== 'address') continue;
      const wait = this.#trafficOf(integration).take(request.ip);
      if (wait > 0) return { kind: 'throttled', retryAfterMs: wait };
      return { kind: 'admitted', integration };
    }
    this.#failures.take(request.ip);
    return { kind: 'refused' };
  }
}
