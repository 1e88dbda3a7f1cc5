import { type UseMutationResult, useMutation, useQueryClient } from '@tanstack/react-query';
import type { Session } from '../api/types';
import { ME_KEY } from '../auth/session';
import { describeError } from '../i18n/errors';
import { useI18n } from '../i18n/i18n';
import { useNotify } from './notify';

/**
 * Ends a session and refreshes the lists under `listKey`. Ending one's own current session is signing out,
 * so the console then returns to the sign-in page.
 */
export function useEndSession(
  listKey: readonly unknown[],
  end: (session: Session) => Promise<unknown>,
): UseMutationResult<unknown, Error, Session> {
  const { t } = useI18n();
  const notify = useNotify();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: end,
    onSuccess: async (_result, session) => {
      if (session.current) {
        queryClient.clear();
        queryClient.setQueryData(ME_KEY, null);
        return;
      }
      notify.success(t('sessions.ended', { username: session.username }));
      await queryClient.invalidateQueries({ queryKey: listKey });
    },
    onError: (error) => notify.failure(describeError(t, error)),
  });
}
