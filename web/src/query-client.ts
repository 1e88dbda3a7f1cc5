import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { ME_KEY } from './auth/session';

/**
 * `auth.required` from any call means the session ended (idle timeout, signed out elsewhere, deactivated):
 * forgetting the current user sends the console back to the sign-in page. Other 401s (a wrong password or
 * code) belong to the form that asked.
 */
function onError(error: Error): void {
  if (error instanceof ApiError && error.code === 'auth.required') queryClient.setQueryData(ME_KEY, null);
}

export const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      // An answer from the API is final; only network failures are worth another try.
      retry: (failureCount, error) => !(error instanceof ApiError) && failureCount < 2,
      refetchOnWindowFocus: false,
    },
  },
});
