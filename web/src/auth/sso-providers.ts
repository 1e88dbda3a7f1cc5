import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { SignInProvider } from '../api/types';

/** The enabled SSO providers (public: the sign-in page lists them too). */
export function useSsoProviders(): UseQueryResult<SignInProvider[]> {
  return useQuery({
    // Under the providers' key, so that a change on the settings page (which invalidates it) refreshes this list.
    queryKey: ['sso-providers', 'sign-in'],
    queryFn: () => unwrap(api.GET('/api/v1/auth/sso/providers')),
    staleTime: 60_000,
  });
}
