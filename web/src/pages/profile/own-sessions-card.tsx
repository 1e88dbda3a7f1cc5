import { Button, Card, Center, Group, Loader, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';
import { useNotify } from '../../components/notify';
import { SessionsTable } from '../../components/sessions-table';
import { useEndSession } from '../../components/use-end-session';
import { describeError } from '../../i18n/errors';
import { useI18n } from '../../i18n/i18n';

const OWN_SESSIONS_KEY = ['me', 'sessions'] as const;

/** My live sessions, each with "sign out", and "sign out everywhere else". */
export function OwnSessionsCard(): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const sessions = useQuery({
    queryKey: OWN_SESSIONS_KEY,
    // My own sessions are few; the largest page shows them all.
    queryFn: () => unwrap(api.GET('/api/v1/me/sessions', { params: { query: { pageSize: 250 } } })),
  });
  const end = useEndSession(OWN_SESSIONS_KEY, (session) =>
    unwrap(api.DELETE('/api/v1/me/sessions/{id}', { params: { path: { id: session.id } } })),
  );
  const endOthers = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/me/sessions')),
    onSuccess: async ({ ended }) => {
      notify.success(t('profile.sessions.othersEnded', { count: ended }));
      await queryClient.invalidateQueries({ queryKey: OWN_SESSIONS_KEY });
    },
    onError: (error) => notify.failure(describeError(t, error)),
  });
  const others = sessions.data?.items.filter((session) => !session.current).length ?? 0;

  return (
    <Card withBorder radius="md" p="lg">
      <Group justify="space-between" mb="md">
        <div>
          <Title order={2} size="h4">
            {t('profile.sessions')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('profile.sessions.explain')}
          </Text>
        </div>
        <Button
          variant="light"
          color="red"
          disabled={others === 0}
          loading={endOthers.isPending}
          onClick={() => endOthers.mutate()}
        >
          {t('profile.sessions.endOthers')}
        </Button>
      </Group>
      {sessions.isPending && (
        <Center py="md">
          <Loader aria-label={t('common.loading')} />
        </Center>
      )}
      {sessions.isError && <ErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />}
      {sessions.data && (
        <SessionsTable
          sessions={sessions.data.items}
          showUser={false}
          canEnd
          ending={end.isPending ? (end.variables?.id ?? null) : null}
          onEnd={(session) => end.mutate(session)}
        />
      )}
    </Card>
  );
}
