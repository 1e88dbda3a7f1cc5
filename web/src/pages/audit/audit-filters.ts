import { useMemo } from 'react';
import type { PageSize } from '../../components/pagination-bar';
import { type UrlFiltersChange, useUrlFilters } from '../../components/use-url-filters';

export const AUDIT_FILTER_KEYS = ['actor', 'action', 'target', 'outcome', 'from', 'to'] as const;
export type AuditFilterKey = (typeof AUDIT_FILTER_KEYS)[number];

export interface AuditFilters {
  readonly values: Readonly<Record<AuditFilterKey, string>>;
  readonly page: number;
  readonly pageSize: PageSize;
}

export function useAuditFilters(): [
  AuditFilters,
  (change: UrlFiltersChange<AuditFilterKey>, options?: { replace?: boolean }) => void,
] {
  return useUrlFilters(AUDIT_FILTER_KEYS);
}

export const OUTCOMES = ['success', 'failure'] as const;
type Outcome = (typeof OUTCOMES)[number];
export type AuditQuery = Partial<Record<Exclude<AuditFilterKey, 'outcome'>, string>> & { outcome?: Outcome };

/** The API query of the filters: only the set ones (the time range is already ISO 8601 in the URL). */
export function auditQuery(filters: AuditFilters): AuditQuery {
  const { outcome, ...text } = filters.values;
  const known = OUTCOMES.find((candidate) => candidate === outcome);
  return {
    ...Object.fromEntries(Object.entries(text).filter(([, value]) => value !== '')),
    ...(known ? { outcome: known } : {}),
  };
}

/** The export link for the same filters (the browser downloads it with the session cookie). */
export function useExportHref(filters: AuditFilters, format: 'csv' | 'json'): string {
  return useMemo(() => {
    const params = new URLSearchParams({ ...auditQuery(filters), format });
    return `/api/v1/audit/export?${params.toString()}`;
  }, [filters, format]);
}

/** `datetime-local` speaks local wall time without a zone; the URL and the API speak UTC instants. */
export function localInputToIso(value: string): string {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

export function isoToLocalInput(iso: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
