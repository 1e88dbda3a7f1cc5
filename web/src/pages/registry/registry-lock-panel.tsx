import { Badge, Button, Group, NumberInput, Stack, Text, Title } from '@mantine/core';
import { IconLock, IconLockOpen } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import type { RegistryState } from '../../api/types';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { registryApi, useRefreshRegistry } from './registry-api';

/** The longest unlock the server accepts, in minutes. */
const MAX_MINUTES = 60;

/** "14:05": minutes and seconds left. */
function clock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * Milliseconds until `untilIso`, ticking every second. Measured on the server's clock (`serverNow` as it was
 * when the state was read at `readAt`), so a browser whose clock is off still counts down correctly.
 */
function useRemaining(untilIso: string | null, serverNow: string, readAt: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (untilIso === null) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [untilIso]);
  if (untilIso === null) return 0;
  const skew = Date.parse(serverNow) - readAt;
  return Date.parse(untilIso) - (now + skew);
}

/**
 * Whether devices may register without an enrolment token: unlock for some minutes (at most 60), with a live
 * countdown, or lock again at once.
 */
export function RegistryLockPanel({
  state,
  readAt,
  canEdit,
}: {
  state: RegistryState;
  readAt: number;
  canEdit: boolean;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshRegistry();
  const [minutes, setMinutes] = useState<number>(15);
  const remaining = useRemaining(state.unlockedUntil, state.now, readAt);
  const open = state.unlocked && remaining > 0;
  const expired = state.unlocked && remaining <= 0;

  useEffect(() => {
    // The unlock ran out here: read the state again rather than showing 0:00.
    if (expired) void refresh();
  }, [expired, refresh]);

  const unlock = useMutation({
    mutationFn: () => registryApi.unlock(minutes),
    onSuccess: async () => {
      notify.success(t('registry.unlock.done', { minutes }));
      await refresh();
    },
  });
  const lock = useMutation({
    mutationFn: () => registryApi.lock(),
    onSuccess: async () => {
      notify.success(t('registry.lock.done'));
      await refresh();
    },
  });

  return (
    <Stack gap="sm">
      <Group justify="space-between" align="center">
        <Title order={2} size="h4">
          {t('registry.lock.title')}
        </Title>
        <Badge
          variant="light"
          color={open ? 'orange' : 'gray'}
          leftSection={open ? <IconLockOpen size={14} aria-hidden /> : <IconLock size={14} aria-hidden />}
          data-testid="registry-status"
        >
          {open ? t('registry.status.unlocked') : t('registry.status.locked')}
        </Badge>
      </Group>
      <Text size="sm" c="dimmed">
        {open ? t('registry.lock.openHint') : t('registry.lock.lockedHint')}
      </Text>
      {open && (
        <Text size="sm" aria-live="polite">
          {t('registry.lock.remaining')}{' '}
          <Text span fw={700} ff="monospace" data-testid="registry-countdown">
            {clock(remaining)}
          </Text>
        </Text>
      )}
      {canEdit && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            unlock.mutate();
          }}
        >
          <Group align="flex-end" gap="sm">
            <NumberInput
              label={t('registry.unlock.minutes')}
              value={minutes}
              onChange={(value) => setMinutes(typeof value === 'number' ? value : 1)}
              min={1}
              max={MAX_MINUTES}
              allowDecimal={false}
              allowNegative={false}
              clampBehavior="strict"
              w={180}
              data-testid="unlock-minutes"
            />
            <Button
              type="submit"
              leftSection={<IconLockOpen size={16} aria-hidden />}
              loading={unlock.isPending}
            >
              {open ? t('registry.unlock.extend') : t('registry.unlock.submit')}
            </Button>
            {open && (
              <Button
                variant="default"
                leftSection={<IconLock size={16} aria-hidden />}
                loading={lock.isPending}
                onClick={() => lock.mutate()}
              >
                {t('registry.lock.submit')}
              </Button>
            )}
          </Group>
        </form>
      )}
      {unlock.isError && <FailureAlert error={unlock.error} />}
      {lock.isError && <FailureAlert error={lock.error} />}
    </Stack>
  );
}
