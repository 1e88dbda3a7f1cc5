import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { PasswordPolicy } from '../../api/types';

export const PASSWORD_POLICY_KEY = ['password-policy'] as const;

/** The policy in effect; readable during a forced password change too. */
export function usePasswordPolicy(): UseQueryResult<PasswordPolicy> {
  return useQuery({
    queryKey: PASSWORD_POLICY_KEY,
    queryFn: () => unwrap(api.GET('/api/v1/settings/password-policy')),
    staleTime: 60_000,
  });
}
