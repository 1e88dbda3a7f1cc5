import { TextInput } from '@mantine/core';
import { type ReactNode, useState } from 'react';
import type { User } from '../../api/types';
import { ConfirmModal } from '../../components/confirm-modal';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';
import { useRefreshUsers, usersApi } from './users-api';

type ConfirmAction = 'deactivate' | 'reactivate' | 'resetMfa';

const CONFIRMS: Record<
  ConfirmAction,
  {
    title: MessageKey;
    message: MessageKey;
    confirm: MessageKey;
    done: MessageKey;
    color: string;
    run: (username: string) => Promise<unknown>;
  }
> = {
  deactivate: {
    title: 'users.deactivate.title',
    message: 'users.deactivate.message',
    confirm: 'users.deactivate.confirm',
    done: 'users.deactivate.done',
    color: 'red',
    run: usersApi.deactivate,
  },
  reactivate: {
    title: 'users.reactivate.title',
    message: 'users.reactivate.message',
    confirm: 'users.reactivate.confirm',
    done: 'users.reactivate.done',
    color: 'teal',
    run: usersApi.reactivate,
  },
  resetMfa: {
    title: 'users.resetMfa.title',
    message: 'users.resetMfa.message',
    confirm: 'users.resetMfa.confirm',
    done: 'users.resetMfa.done',
    color: 'red',
    run: usersApi.resetMfa,
  },
};

/** Deactivate (a soft delete, worded as such), reactivate or reset MFA after a confirmation. */
export function UserConfirmDialog({
  action,
  user,
  onClose,
}: {
  action: ConfirmAction;
  user: User;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshUsers();
  const spec = CONFIRMS[action];
  const name = { username: user.username };
  return (
    <ConfirmModal
      title={t(spec.title, name)}
      message={t(spec.message, name)}
      confirmLabel={t(spec.confirm)}
      color={spec.color}
      onClose={onClose}
      onConfirm={async () => {
        await spec.run(user.username);
        notify.success(t(spec.done, name));
        await refresh();
      }}
    />
  );
}

/** Deleting is permanent: the username must be typed to confirm. */
export function DeleteUserDialog({ user, onClose }: { user: User; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshUsers();
  const [typed, setTyped] = useState('');
  const name = { username: user.username };
  return (
    <ConfirmModal
      title={t('users.delete.title', name)}
      message={t('users.delete.message', name)}
      confirmLabel={t('users.delete.confirm')}
      confirmDisabled={typed !== user.username}
      onClose={onClose}
      onConfirm={async () => {
        await usersApi.remove(user.username);
        notify.success(t('users.delete.done', name));
        await refresh();
      }}
    >
      <TextInput
        label={t('users.delete.typeToConfirm', name)}
        value={typed}
        onChange={(event) => setTyped(event.currentTarget.value)}
        autoComplete="off"
        spellCheck={false}
        data-autofocus
      />
    </ConfirmModal>
  );
}
