import { Badge, Group, Table, Text } from '@mantine/core';
import { IconLogout } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { Session } from '../api/types';
import { formatDateTime } from '../i18n/format';
import { useI18n } from '../i18n/i18n';
import { RelativeTime } from './relative-time';
import { RowEndButton } from './row-end-button';
import { describeSessionExpiry } from './session-expiry';

/** Live sessions with a sign-out button each; the admin view adds the user column. */
export function SessionsTable({
  sessions,
  showUser,
  canEnd,
  ending,
  onEnd,
}: {
  sessions: readonly Session[];
  showUser: boolean;
  canEnd: boolean;
  /** The session being ended right now, if any. */
  ending: string | null;
  onEnd: (session: Session) => void;
}): ReactNode {
  const { t, language } = useI18n();
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="sessions-table">
        <Table.Thead>
          <Table.Tr>
            {showUser && <Table.Th>{t('sessions.column.user')}</Table.Th>}
            <Table.Th>{t('sessions.column.client')}</Table.Th>
            <Table.Th>{t('sessions.column.ip')}</Table.Th>
            <Table.Th>{t('sessions.column.started')}</Table.Th>
            <Table.Th>{t('sessions.column.lastSeen')}</Table.Th>
            <Table.Th>{t('sessions.column.expires')}</Table.Th>
            {canEnd && <Table.Th ta="right">{t('sessions.column.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sessions.map((session) => (
            <Table.Tr key={session.id} data-session={session.id}>
              {showUser && (
                <Table.Td>
                  <Text size="sm" fw={600}>
                    {session.username}
                  </Text>
                </Table.Td>
              )}
              <Table.Td maw={320}>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" truncate="end" data-hint={session.userAgent || undefined}>
                    {session.userAgent || t('sessions.unknownClient')}
                  </Text>
                  {session.current && (
                    <Badge color="teal" variant="light" size="sm" style={{ flexShrink: 0 }}>
                      {t('sessions.current')}
                    </Badge>
                  )}
                  {session.stage !== 'active' && (
                    <Badge color="yellow" variant="light" size="sm" style={{ flexShrink: 0 }}>
                      {t('sessions.pending')}
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{session.ip}</Text>
              </Table.Td>
              <Table.Td>
                <RelativeTime iso={session.createdAt} />
              </Table.Td>
              <Table.Td>
                <RelativeTime iso={session.lastSeenAt} />
              </Table.Td>
              <Table.Td>
                <Text
                  size="sm"
                  component="time"
                  dateTime={session.expiresAt}
                  data-hint={formatDateTime(language, session.expiresAt)}
                  data-testid="session-expiry"
                >
                  {describeSessionExpiry({ t, language, session })}
                </Text>
              </Table.Td>
              {canEnd && (
                <RowEndButton
                  icon={IconLogout}
                  label={t('sessions.end')}
                  ariaLabel={t('sessions.endFor', { username: session.username, ip: session.ip })}
                  loading={ending === session.id}
                  onClick={() => onEnd(session)}
                />
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
