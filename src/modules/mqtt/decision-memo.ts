import type { AccessSubject } from '../access/access.service.js';
import { type CompiledRuleSet, decide, type Identity, type QoS } from '../access-engine/index.js';

/** Topics remembered per connection; beyond it the memo starts over (topics of one device repeat). */
const MAX_TOPICS = 256;

/**
 * One connection's recent publish and delivery decisions, so that a device sending to the same few topics all
 * day does not walk the rule trie for every message. A decision depends only on the compiled rule set, the
 * connection's identity and the request, so entries are valid exactly as long as the user's compiled set is
 * the same object; any recompilation (a rule, role or assignment change) starts the memo over.
 *
 * Per topic, one integer holds up to 12 decisions: (publish | receive) × QoS 0–2 × retain, two bits each
 * (known, allowed).
 */
export class DecisionMemo {
  #compiled: CompiledRuleSet | null = null;
  readonly #topics = new Map<string, number>();

  constructor(private readonly identity: Identity) {}

  allows(
    subject: AccessSubject,
    action: 'publish' | 'receive',
    topic: string,
    qos: QoS,
    retain: boolean,
  ): boolean {
    if (this.#compiled !== subject.compiled) {
      this.#compiled = subject.compiled;
      this.#topics.clear();
    }
    const shift = ((action === 'publish' ? 0 : 6) + qos * 2 + (retain ? 1 : 0)) * 2;
    const bits = this.#topics.get(topic) ?? 0;
    if (((bits >>> shift) & 1) === 1) return ((bits >>> (shift + 1)) & 1) === 1;
    const allowed = decide(subject.compiled, this.identity, { action, topic, qos, retain }).allowed;
    if (bits === 0 && this.#topics.size >= MAX_TOPICS) this.#topics.clear();
    this.#topics.set(topic, bits | (1 << shift) | (allowed ? 1 << (shift + 1) : 0));
    return allowed;
  }
}
