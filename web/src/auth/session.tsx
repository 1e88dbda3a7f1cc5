import { Center, Loader } from '@mantine/core';
import { type UseQueryResult, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { ApiError, api, unwrap } from '../api/client';
import type { Me, User } from '../api/types';
import { ErrorAlert } from '../components/error-alert';
import { useI18n } from '../i18n/i18n';

export const ME_KEY = ['me'] as const;

/** The current user and pending login step; null when nobody is signed in. */
async function fetchMe(): Promise<Me | null> {
  try {
    return await unwrap(api.GET('/api/v1/me'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function useMe(): UseQueryResult<Me | null> {
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 30_000 });
}

/** Stores what a login step answered, so the console moves on without another round trip. */
export function useSetMe(): (me: Me | null) => void {
  const queryClient = useQueryClient();
  return useCallback((me) => queryClient.setQueryData(ME_KEY, me), [queryClient]);
}

/**
 * Ends the session and forgets everything cached for it. Answers where the browser should go to sign out at the
 * SSO provider too, when the session came from a single sign-on there (RP-initiated logout), else null.
 */
export function useSignOut(): () => Promise<string | null> {
  const queryClient = useQueryClient();
  return useCallback(async () => {
    try {
      // 204 for a password session (no body), 200 {endSessionUrl} for one a provider started.
      const ended = await unwrap(api.POST('/api/v1/auth/logout'));
      return ended?.endSessionUrl ?? null;
    } finally {
      queryClient.clear();
      queryClient.setQueryData(ME_KEY, null);
    }
  }, [queryClient]);
}

const CurrentUserContext = createContext<User | null>(null);

/** The signed-in user; only inside {@link RequireSession}. */
export function useCurrentUser(): User {
  const user = useContext(CurrentUserContext);
  if (!user) throw new Error('useCurrentUser outside RequireSession');
  return user;
}

export function FullPageLoader(): ReactNode {
  const { t } = useI18n();
  return (
    <Center h="100vh">
      <Loader aria-label={t('common.loading')} />
    </Center>
  );
}

/** Renders the console only for a complete login; anyone else goes to the sign-in page and comes back. */
export function RequireSession(): ReactNode {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <FullPageLoader />;
  if (me.isError) {
    return (
      <Center h="100vh" p="md">
        <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
      </Center>
    );
  }
  if (!me.data || me.data.next !== null) {
    const from = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?from=${encodeURIComponent(from)}`} replace />;
  }
  return (
    <CurrentUserContext.Provider value={me.data.user}>
      <Outlet />
    </CurrentUserContext.Provider>
  );
}
