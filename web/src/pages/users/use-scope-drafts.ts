import { useCallback, useMemo, useRef, useState } from 'react';
import type { User } from '../../api/types';
import type { Scope } from '../../auth/permissions';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { useRefreshUsers, usersApi } from './users-api';

/** What the table shows of unsaved permission edits, by username. */
export interface ScopeDraftState {
  /** Unsaved scopes of modified rows. */
  readonly drafts: ReadonlyMap<string, readonly Scope[]>;
  /** The last refused save of a row, shown on that row. */
  readonly errors: ReadonlyMap<string, unknown>;
  readonly saving: ReadonlySet<string>;
}

/** The edits; stable across renders, so rows that did not change need not render again. */
export interface ScopeDraftActions {
  toggle(user: User, scope: Scope, on: boolean): void;
  cancel(username: string): void;
  save(user: User): Promise<void>;
  dismissError(username: string): void;
}

function sameScopes(a: readonly Scope[], b: readonly Scope[]): boolean {
  return a.length === b.length && a.every((scope) => b.includes(scope));
}

function without<T>(map: ReadonlyMap<string, T>, key: string): Map<string, T> {
  const next = new Map(map);
  next.delete(key);
  return next;
}

function withoutMember(set: ReadonlySet<string>, key: string): Set<string> {
  const next = new Set(set);
  next.delete(key);
  return next;
}

/**
 * Seed 000's in-row permission editing: toggling marks the row "Modified" and keeps the change local until
 * Save sends it as one PATCH `{scopes}`, or Cancel drops it. A refused save stays on its row with the reason.
 */
export function useScopeDrafts(): [ScopeDraftState, ScopeDraftActions] {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshUsers();
  const [drafts, setDrafts] = useState<ReadonlyMap<string, readonly Scope[]>>(new Map());
  const [errors, setErrors] = useState<ReadonlyMap<string, unknown>>(new Map());
  const [saving, setSaving] = useState<ReadonlySet<string>>(new Set());
  // Save reads the drafts of the moment it is clicked without becoming a new function at every toggle.
  const draftsRef = useRef(drafts);
  draftsRef.current = drafts;

  const toggle = useCallback((user: User, scope: Scope, on: boolean) => {
    setDrafts((current) => {
      const base = current.get(user.username) ?? user.scopes;
      const scopes = on ? [...base, scope] : base.filter((held) => held !== scope);
      return sameScopes(scopes, user.scopes)
        ? without(current, user.username)
        : new Map(current).set(user.username, scopes);
    });
    setErrors((current) => without(current, user.username));
  }, []);

  const cancel = useCallback((username: string) => {
    setDrafts((current) => without(current, username));
    setErrors((current) => without(current, username));
  }, []);

  const dismissError = useCallback((username: string) => {
    setErrors((current) => without(current, username));
  }, []);

  const save = useCallback(
    async (user: User) => {
      const scopes = draftsRef.current.get(user.username);
      if (!scopes) return;
      setSaving((current) => new Set(current).add(user.username));
      try {
        await usersApi.update(user.username, { scopes: [...scopes] });
        setDrafts((current) => without(current, user.username));
        setErrors((current) => without(current, user.username));
        notify.success(t('users.scopes.saved', { username: user.username }));
        await refresh();
      } catch (error) {
        setErrors((current) => new Map(current).set(user.username, error));
      } finally {
        setSaving((current) => withoutMember(current, user.username));
      }
    },
    [notify, refresh, t],
  );

  const actions = useMemo(
    () => ({ toggle, cancel, save, dismissError }),
    [toggle, cancel, save, dismissError],
  );
  return [{ drafts, errors, saving }, actions];
}
