import { describe, expect, it } from 'vitest';
import { describeSessionExpiry } from '../../web/src/components/session-expiry.js';
import { de } from '../../web/src/i18n/messages.de.js';
import { en, type Messages } from '../../web/src/i18n/messages.en.js';

/** The console's `t` for one dictionary (the same `{name}` filling as web/src/i18n/i18n.tsx). */
function translator(messages: Messages) {
  return (key: keyof Messages, values: Readonly<Record<string, string | number>> = {}): string =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(values, name) ? String(values[name]) : whole,
    );
}

const MINUTE = 60_000;
/** Noon local time, so that "later today" stays today in every time zone the tests run in. */
const NOON = new Date(2026, 2, 10, 12, 0).getTime();
const at = (ms: number): string => new Date(ms).toISOString();
const clock = (language: string, ms: number): string =>
  new Intl.DateTimeFormat(language, { timeStyle: 'short' }).format(new Date(ms));

/**
 * The sessions table says when a session ends: the idle end while it comes first, with the absolute end as
 * "at the latest"; once the absolute end comes first, that one, said to hold however active the session is.
 */
describe('session expiry in words', () => {
  const idleFirst = { idleExpiresAt: at(NOON + 25 * MINUTE), absoluteExpiresAt: at(NOON + 360 * MINUTE) };
  const absoluteFirst = { idleExpiresAt: at(NOON + 600 * MINUTE), absoluteExpiresAt: at(NOON + 90 * MINUTE) };

  it('says the idle end and the latest end, in English and German', () => {
    expect(describeSessionExpiry({ t: translator(en), language: 'en', session: idleFirst, now: NOON })).toBe(
      `in 25 min. if idle · at the latest ${clock('en', NOON + 360 * MINUTE)}`,
    );
    expect(describeSessionExpiry({ t: translator(de), language: 'de', session: idleFirst, now: NOON })).toBe(
      `in 25 Min. ohne Aktivität · spätestens ${clock('de', NOON + 360 * MINUTE)}`,
    );
  });

  it('says the absolute end when it comes before the idle one', () => {
    const english = describeSessionExpiry({
      t: translator(en),
      language: 'en',
      session: absoluteFirst,
      now: NOON,
    });
    expect(english).toBe(`in 2 hr. (at ${clock('en', NOON + 90 * MINUTE)}), however active`);
    const german = describeSessionExpiry({
      t: translator(de),
      language: 'de',
      session: absoluteFirst,
      now: NOON,
    });
    expect(german).toBe(`in 2 Std. (${clock('de', NOON + 90 * MINUTE)}), auch bei Aktivität`);
  });

  it('names the day of a latest end that is not today', () => {
    const tomorrow = {
      idleExpiresAt: at(NOON + 30 * MINUTE),
      absoluteExpiresAt: at(NOON + 20 * 60 * MINUTE),
    };
    const text = describeSessionExpiry({ t: translator(en), language: 'en', session: tomorrow, now: NOON });
    expect(text).toMatch(/^in 30 min\. if idle · at the latest Mar 11, 2026/);
  });
});
