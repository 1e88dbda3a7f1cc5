import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { de } from './messages.de';
import { en, type MessageKey, type Messages } from './messages.en';
import type { MessageValues, Translate } from './translate';

/** Languages the console speaks; adding one = a dictionary typed `Messages` plus one entry here. */
export const LANGUAGES = {
  en: { label: 'English', messages: en },
  de: { label: 'Deutsch', messages: de },
} as const satisfies Record<string, { label: string; messages: Messages }>;

export type Language = keyof typeof LANGUAGES;
export type { MessageValues, Translate };

const STORAGE_KEY = 'warden.language';

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(LANGUAGES, value);
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** The remembered choice, else the browser's preferred language when the console speaks it, else English. */
function initialLanguage(): Language {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  if (isLanguage(stored)) return stored;
  const preferred = window.navigator.languages.map((tag) => tag.split('-')[0]).find(isLanguage);
  return preferred ?? 'en';
}

/** Fills `{name}` placeholders. */
function interpolate(template: string, values: MessageValues | undefined): string {
  if (!values) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

interface I18nContextValue {
  readonly language: Language;
  readonly setLanguage: (language: Language) => void;
  readonly t: Translate;
}

const I18nContext = createContext<I18nContextValue | null>(null);

export function I18nProvider({ children }: { children: ReactNode }): ReactNode {
  const [language, setLanguageState] = useState<Language>(initialLanguage);

  const setLanguage = useCallback((next: Language) => {
    window.localStorage.setItem(STORAGE_KEY, next);
    setLanguageState(next);
  }, []);

  useEffect(() => {
    // Screen readers pick their voice from the document language.
    document.documentElement.lang = language;
  }, [language]);

  const value = useMemo<I18nContextValue>(() => {
    const messages: Messages = LANGUAGES[language].messages;
    return { language, setLanguage, t: (key, values) => interpolate(messages[key], values) };
  }, [language, setLanguage]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nContextValue {
  const context = useContext(I18nContext);
  if (!context) throw new Error('useI18n outside I18nProvider');
  return context;
}
