// One catalogue of strings per language; `useT()` answers the current one's.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

import { en, type MessageKey } from './en';
import { zh } from './zh';

export type Language = 'en-US' | 'zh-CN';

const catalogues: Record<Language, Record<MessageKey, string>> = { 'en-US': en, 'zh-CN': zh };

interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: (key: MessageKey, values?: Record<string, string | number>) => string;
}

const Context = createContext<I18n | null>(null);

function initialLanguage(): Language {
  const saved = localStorage.getItem('ocp.language');
  if (saved === 'en-US' || saved === 'zh-CN') {
    return saved;
  }
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en-US';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const setLanguage = useCallback((next: Language) => {
    localStorage.setItem('ocp.language', next);
    setLanguageState(next);
  }, []);
  const value = useMemo<I18n>(
    () => ({
      language,
      setLanguage,
      t: (key, values) => {
        let text: string = catalogues[language][key] ?? key;
        for (const [name, v] of Object.entries(values ?? {})) {
          text = text.replace(`{${name}}`, String(v));
        }
        return text;
      },
    }),
    [language, setLanguage],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(Context);
  if (!i18n) {
    throw new Error('useI18n outside I18nProvider');
  }
  return i18n;
}

export const useT = () => useI18n().t;
export type { MessageKey } from './en';
