import { App as DesignApp, ConfigProvider } from '@oceanbase/design';
import { LoadingOutlined } from '@oceanbase/icons';
import enUS from '@oceanbase/design/es/locale/en-US';
import zhCN from '@oceanbase/design/es/locale/zh-CN';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';

import { ApiError } from './api/client';
import { Routes } from './Routes';
import { I18nProvider, useI18n } from './i18n';
import { SessionProvider } from './session';

// The server puts a fresh nonce in this meta tag and allows styles with it alone
// (Content-Security-Policy), so the design system's injected styles carry it. Not every path
// of its style engine passes the nonce on (CSS variables, feature checks), so every style
// element this page creates gets it.
const nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? undefined;
if (nonce) {
  const create = document.createElement.bind(document);
  document.createElement = ((tag: string, options?: ElementCreationOptions) => {
    const element = create(tag, options);
    if (tag.toLowerCase() === 'style') {
      element.setAttribute('nonce', nonce);
    }
    return element;
  }) as typeof document.createElement;
}

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal (403, 404) is an answer, not a failure to retry.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

function Themed() {
  const { language } = useI18n();
  return (
    // A plain spinner: the design system's animated one loads an 80 KB animation player.
    <ConfigProvider
      locale={language === 'zh-CN' ? zhCN : enUS}
      csp={{ nonce }}
      spin={{ indicator: <LoadingOutlined spin /> }}
    >
      <DesignApp>
        <SessionProvider>
          <Routes />
        </SessionProvider>
      </DesignApp>
    </ConfigProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <I18nProvider>
        <BrowserRouter>
          <Themed />
        </BrowserRouter>
      </I18nProvider>
    </QueryClientProvider>
  </StrictMode>,
);
