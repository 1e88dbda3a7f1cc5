import type { Session } from '../api/types.js';
import { formatMoment, formatRelativeTime } from '../i18n/format.js';
import type { MessageKey } from '../i18n/messages.en.js';

type Translate = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string;

/**
 * When a session ends, in words: "in 25 min. if idle · at the latest 18:04" while the idle timeout comes
 * first, "in 2 hr. (at 18:04), however active" once the absolute lifetime does (a long idle timeout, or a
 * session near its end). Kept apart from the table so that it is testable without a browser.
 */
export function describeSessionExpiry(options: {
  t: Translate;
  language: string;
  session: Pick<Session, 'idleExpiresAt' | 'absoluteExpiresAt'>;
  now?: number;
}): string {
  const { t, language, session, now = Date.now() } = options;
  const latest = formatMoment(language, session.absoluteExpiresAt, now);
  if (Date.parse(session.idleExpiresAt) < Date.parse(session.absoluteExpiresAt)) {
    return t('sessions.expiry.idle', {
      idle: formatRelativeTime(language, session.idleExpiresAt, now),
      latest,
    });
  }
  return t('sessions.expiry.absolute', {
    absolute: formatRelativeTime(language, session.absoluteExpiresAt, now),
    latest,
  });
}
