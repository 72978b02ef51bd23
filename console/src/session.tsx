// Who is logged in: the session the server holds behind an HttpOnly cookie, read once from
// `GET /api/v2/iam/session`, with the CSRF token and the permissions it grants.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';

import { ApiError, get, post, setCsrfToken } from './api/client';
import type { SessionInfo } from './api/types';

/** Whether a permission pattern (`HOST:*:READ`, `**`) grants `required`, as the server decides. */
export function grants(pattern: string, required: string): boolean {
  if (pattern === '**') {
    return true;
  }
  const have = pattern.split(':');
  const want = required.split(':');
  return (
    have.length === want.length &&
    have.every((h, i) => h === '*' || h.toLowerCase() === want[i].toLowerCase())
  );
}

interface Session {
  info: SessionInfo | null;
  loading: boolean;
  may: (permission: string) => boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const Context = createContext<Session | null>(null);

async function current(): Promise<SessionInfo | null> {
  try {
    const info = await get<SessionInfo>('/api/v2/iam/session');
    setCsrfToken(info.csrfToken ?? null);
    return info;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw e;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const { data, isLoading } = useQuery({ queryKey: ['session'], queryFn: current, staleTime: 60_000 });
  const login = useCallback(
    async (username: string, password: string) => {
      const info = await post<SessionInfo>('/api/v2/iam/login', { username, password });
      setCsrfToken(info.csrfToken ?? null);
      // What an earlier user saw goes; the session query keeps its observers.
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
      client.setQueryData(['session'], info);
    },
    [client],
  );
  const logout = useCallback(async () => {
    try {
      await post('/api/v2/iam/logout');
    } finally {
      setCsrfToken(null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
      client.setQueryData(['session'], null);
    }
  }, [client]);
  const value = useMemo<Session>(() => {
    const info = data ?? null;
    return {
      info,
      loading: isLoading,
      may: (permission) => (info?.permissions ?? []).some((p) => grants(p, permission)),
      login,
      logout,
    };
  }, [data, isLoading, login, logout]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): Session {
  const session = useContext(Context);
  if (!session) {
    throw new Error('useSession outside SessionProvider');
  }
  return session;
}
