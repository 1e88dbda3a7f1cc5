import { ActionIcon, Group } from '@mantine/core';
import {
  type Icon,
  IconApi,
  IconArrowBackUp,
  IconDeviceFloppy,
  IconKey,
  IconPencil,
  IconRefresh,
  IconShieldOff,
  IconTrash,
  IconUserOff,
  IconX,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { User } from '../../api/types';
import { actOnRefusal, canWrite } from '../../auth/permissions';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';
import type { UserAction } from './user-dialog';

interface ActionSpec {
  readonly action: UserAction;
  readonly label: MessageKey;
  readonly icon: Icon;
  readonly color?: string;
  /** Why the action is unavailable for this user, or null. */
  readonly disabledBecause: MessageKey | null;
}

const OUTRANKS_KEYS = {
  root: 'users.action.rootNeedsAllScopes',
  outranks: 'users.action.outranks',
} as const satisfies Record<string, MessageKey>;

function actionsFor(me: User, user: User): ActionSpec[] {
  // The server refuses every action on a user who outranks the signed-in one; say so before anyone clicks.
  const refusal = actOnRefusal(me, user);
  const outranked: MessageKey | null = refusal ? OUTRANKS_KEYS[refusal] : null;
  return [
    { action: 'edit', label: 'users.action.edit', icon: IconPencil, disabledBecause: outranked },
    {
      action: 'password',
      label: 'users.action.password',
      icon: IconKey,
      // An SSO user has no password here (the server refuses one): switch it to local in the edit dialog.
      disabledBecause: outranked ?? (user.authMethod === 'sso' ? 'users.action.password.sso' : null),
    },
    {
      action: 'rotateSecret',
      label: 'users.action.rotateSecret',
      icon: IconRefresh,
      disabledBecause: outranked ?? (user.kind === 'person' ? 'users.action.rotateSecret.person' : null),
    },
    user.active
      ? {
          action: 'deactivate',
          label: 'users.action.deactivate',
          icon: IconUserOff,
          disabledBecause: outranked,
        }
      : {
          action: 'reactivate',
          label: 'users.action.reactivate',
          icon: IconArrowBackUp,
          disabledBecause: outranked,
        },
    {
      action: 'resetMfa',
      label: 'users.action.resetMfa',
      icon: IconShieldOff,
      disabledBecause: outranked ?? (user.mfaEnabled ? null : 'users.action.resetMfa.notEnrolled'),
    },
    {
      action: 'apiKeys',
      label: 'users.action.apiKeys',
      icon: IconApi,
      disabledBecause: !canWrite(me, 'api_key_management')
        ? 'users.action.apiKeys.noScope'
        : user.kind === 'device'
          ? 'users.action.apiKeys.device'
          : outranked,
    },
    {
      action: 'delete',
      label: 'users.action.delete',
      icon: IconTrash,
      color: 'red',
      disabledBecause: user.protected ? 'users.action.delete.protected' : outranked,
    },
  ];
}

/** Save / Cancel for a modified row, then the per-row actions, each with a hint. */
export function UserRowActions({
  me,
  user,
  modified,
  saving,
  onSave,
  onCancel,
  onAction,
}: {
  me: User;
  user: User;
  modified: boolean;
  saving: boolean;
  onSave: () => void;
  onCancel: () => void;
  onAction: (action: UserAction) => void;
}): ReactNode {
  const { t } = useI18n();
  const name = { username: user.username };
  return (
    <Group gap={4} wrap="nowrap" justify="flex-end">
      {modified && (
        <>
          <ActionIcon
            variant="filled"
            color="teal"
            loading={saving}
            onClick={onSave}
            aria-label={t('users.action.saveFor', name)}
            data-hint={t('users.action.save')}
          >
            <IconDeviceFloppy size={18} aria-hidden />
          </ActionIcon>
          <ActionIcon
            variant="default"
            onClick={onCancel}
            aria-label={t('users.action.cancelFor', name)}
            data-hint={t('common.cancel')}
          >
            <IconX size={18} aria-hidden />
          </ActionIcon>
        </>
      )}
      {actionsFor(me, user).map((spec) => (
        // The hint sits on a wrapper: a disabled button receives no pointer events.
        <span key={spec.action} data-hint={t(spec.disabledBecause ?? spec.label)}>
          <ActionIcon
            variant="subtle"
            color={spec.color ?? 'gray'}
            disabled={spec.disabledBecause !== null}
            onClick={() => onAction(spec.action)}
            aria-label={`${t(spec.label)}: ${user.username}`}
            data-action={spec.action}
          >
            <spec.icon size={18} aria-hidden />
          </ActionIcon>
        </span>
      ))}
    </Group>
  );
}
