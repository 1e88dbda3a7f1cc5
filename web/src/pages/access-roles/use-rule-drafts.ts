import { useCallback, useMemo, useRef, useState } from 'react';
import type { AccessRule } from '../../api/types';

/** A rule being edited, with a key that stays the same while the rule moves up or down. */
export interface RuleDraft {
  readonly key: number;
  readonly rule: AccessRule;
}

export interface RuleDraftActions {
  add(): void;
  /** Replaces a rule (a row builds the changed rule, also when its kind switches between MQTT and HTTP). */
  change(key: number, rule: AccessRule): void;
  /** Moves a rule one place up (-1) or down (+1): the order is the evaluation order. */
  move(key: number, offset: -1 | 1): void;
  remove(key: number): void;
}

const NEW_RULE: AccessRule = { permission: 'allow', action: 'all', topic: '' };

/**
 * Drops options set back to "any" (`qos: []`, `retain: undefined`, `methods: []`): the API reads absence as
 * any.
 */
function cleaned(rule: AccessRule): AccessRule {
  if (rule.action === 'http') {
    const { methods, ...rest } = rule;
    return { ...rest, ...(methods && methods.length > 0 ? { methods } : {}) };
  }
  const { qos, retain, ...rest } = rule;
  return { ...rest, ...(qos && qos.length > 0 ? { qos } : {}), ...(retain === undefined ? {} : { retain }) };
}

/** An access role's ordered rules while its dialog is open. */
export function useRuleDrafts(initial: readonly AccessRule[]): [RuleDraft[], RuleDraftActions, AccessRule[]] {
  const nextKey = useRef(initial.length);
  const [drafts, setDrafts] = useState<RuleDraft[]>(() => initial.map((rule, key) => ({ key, rule })));

  const add = useCallback(() => {
    const key = nextKey.current++;
    setDrafts((current) => [...current, { key, rule: NEW_RULE }]);
  }, []);
  const change = useCallback((key: number, rule: AccessRule) => {
    setDrafts((current) => current.map((draft) => (draft.key === key ? { key, rule } : draft)));
  }, []);
  const move = useCallback((key: number, offset: -1 | 1) => {
    setDrafts((current) => {
      const from = current.findIndex((draft) => draft.key === key);
      const to = from + offset;
      const moving = current[from];
      const other = current[to];
      if (!moving || !other) return current;
      const next = [...current];
      next[from] = other;
      next[to] = moving;
      return next;
    });
  }, []);
  const remove = useCallback((key: number) => {
    setDrafts((current) => current.filter((draft) => draft.key !== key));
  }, []);

  const actions = useMemo(() => ({ add, change, move, remove }), [add, change, move, remove]);
  const rules = useMemo(() => drafts.map((draft) => cleaned(draft.rule)), [drafts]);
  return [drafts, actions, rules];
}
