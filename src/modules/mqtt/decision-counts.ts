/** Where an MQTT decision was taken: the embedded broker, or a broker hook of one kind. */
export const ENFORCEMENT_POINTS = ['embedded', 'emqx', 'go-auth', 'vernemq'] as const;
export type EnforcementPoint = (typeof ENFORCEMENT_POINTS)[number];

export const DECISION_ACTIONS = ['connect', 'publish', 'subscribe', 'receive'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** `ignore`: a hook left the decision to the broker's next authenticator (EMQX `ignore`, VerneMQ `next`). */
export const DECISION_RESULTS = ['allow', 'deny', 'ignore'] as const;
export type DecisionResult = (typeof DECISION_RESULTS)[number];

const POINT_INDEX = Object.fromEntries(ENFORCEMENT_POINTS.map((p, i) => [p, i])) as Record<
  EnforcementPoint,
  number
>;
const ACTION_INDEX = Object.fromEntries(DECISION_ACTIONS.map((a, i) => [a, i])) as Record<
  DecisionAction,
  number
>;
const RESULT_INDEX = Object.fromEntries(DECISION_RESULTS.map((r, i) => [r, i])) as Record<
  DecisionResult,
  number
>;

/**
 * Counts of the MQTT decisions this process took, by enforcement point, action and result. On the broker's hot
 * path (every PUBLISH and every delivery) a count is one array increment: no labels, no allocation; the metrics
 * registry reads {@link DecisionCounts.forEach} at scrape time (docs/metrics.md).
 */
export class DecisionCounts {
  readonly #counts = new Float64Array(
    ENFORCEMENT_POINTS.length * DECISION_ACTIONS.length * DECISION_RESULTS.length,
  );

  count(point: EnforcementPoint, action: DecisionAction, result: DecisionResult): void {
    const index =
      (POINT_INDEX[point] * DECISION_ACTIONS.length + ACTION_INDEX[action]) * DECISION_RESULTS.length +
      RESULT_INDEX[result];
    this.#counts[index] = (this.#counts[index] as number) + 1;
  }

  /** Calls `visit` for every combination counted at least once. */
  forEach(
    visit: (point: EnforcementPoint, action: DecisionAction, result: DecisionResult, n: number) => void,
  ) {
    let index = 0;
    for (const point of ENFORCEMENT_POINTS)
      for (const action of DECISION_ACTIONS)
        for (const result of DECISION_RESULTS) {
          const n = this.#counts[index++] as number;
          if (n > 0) visit(point, action, result, n);
        }
  }
}
