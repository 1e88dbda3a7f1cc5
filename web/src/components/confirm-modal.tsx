import { Button, Group, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';
import { Dialog } from './dialog';
import { FailureAlert } from './failure-alert';

/** A yes/no question about one action; the action runs on confirm and its failure stays in the dialog. */
export function ConfirmModal({
  title,
  message,
  confirmLabel,
  color = 'red',
  confirmDisabled = false,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  message: string;
  confirmLabel: string;
  color?: string;
  confirmDisabled?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children?: ReactNode;
}): ReactNode {
  const { t } = useI18n();
  const action = useMutation({ mutationFn: onConfirm, onSuccess: onClose });
  return (
    <Dialog onClose={onClose} title={title}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          action.mutate();
        }}
      >
        <Stack gap="md">
          <Text size="sm">{message}</Text>
          {children}
          {action.isError && <FailureAlert error={action.error} />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" color={color} loading={action.isPending} disabled={confirmDisabled}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
