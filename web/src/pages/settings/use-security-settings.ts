import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { SecuritySettings } from '../../api/types';

export const SECURITY_KEY = ['settings', 'security'] as const;

/** The security settings (needs `system_config` to read): the settings page, and what broker snippets repeat. */
export function useSecuritySettings(): UseQueryResult<SecuritySettings> {
  return useQuery({
    queryKey: SECURITY_KEY,
    queryFn: () => unwrap(api.GET('/api/v1/settings/security')),
  });
}
