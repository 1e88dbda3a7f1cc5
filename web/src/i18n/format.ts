/** Locale-aware formatting through Intl only, so every language gets its own words and plurals for free. */

const RELATIVE_STEPS: ReadonlyArray<{ unit: Intl.RelativeTimeFormatUnit; seconds: number }> = [
  { unit: 'year', seconds: 365 * 86_400 },
  { unit: 'month', seconds: 30 * 86_400 },
  { unit: 'week', seconds: 7 * 86_400 },
  { unit: 'day', seconds: 86_400 },
  { unit: 'hour', seconds: 3_600 },
  { unit: 'minute', seconds: 60 },
];

/** "2 min. ago", "yesterday", "now" (in `language`), relative to `now`. */
export function formatRelativeTime(language: string, iso: string, now: number = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const format = new Intl.RelativeTimeFormat(language, { numeric: 'auto', style: 'short' });
  const step = RELATIVE_STEPS.find((candidate) => Math.abs(seconds) >= candidate.seconds);
  if (!step) return format.format(0, 'second');
  return format.format(Math.round(seconds / step.seconds), step.unit);
}

/** A full date and time for tooltips and tables. */
export function formatDateTime(language: string, iso: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' }).format(
    new Date(iso),
  );
}

const DURATION_UNITS: ReadonlyArray<{ unit: string; minutes: number }> = [
  { unit: 'year', minutes: 525_600 },
  { unit: 'day', minutes: 1_440 },
  { unit: 'hour', minutes: 60 },
  { unit: 'minute', minutes: 1 },
];

/** Minutes in words: 525600 → "1 year", 90 → "1 hour 30 minutes". Zero is the caller's to name. */
export function formatMinutes(language: string, total: number): string {
  const parts: string[] = [];
  let rest = total;
  for (const { unit, minutes } of DURATION_UNITS) {
    const count = Math.floor(rest / minutes);
    if (count === 0) continue;
    rest -= count * minutes;
    parts.push(new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'long' }).format(count));
  }
  return new Intl.ListFormat(language, { type: 'unit', style: 'narrow' }).format(parts);
}

/** A moment to read at a glance: the time of day when it is today, else the date with the time. */
export function formatMoment(language: string, iso: string, now: number = Date.now()): string {
  const at = new Date(iso);
  const today = new Date(now);
  const sameDay =
    at.getFullYear() === today.getFullYear() &&
    at.getMonth() === today.getMonth() &&
    at.getDate() === today.getDate();
  return new Intl.DateTimeFormat(
    language,
    sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' },
  ).format(at);
}
