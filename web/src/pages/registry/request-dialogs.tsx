import { MultiSelect, Textarea } from '@mantine/core';
import { type ReactNode, useState } from 'react';
import type { RegistryRequest } from '../../api/types';
import { ConfirmModal } from '../../components/confirm-modal';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { useAccessRoleNames } from '../access-roles/access-roles-api';
import { registryApi, useRefreshRegistry } from './registry-api';

/**
 * Approves a request: the device becomes a user of kind device, with the access roles chosen here (in this
 * order) — without any, it may connect but do nothing.
 */
export function ApproveRequestModal({
  request,
  onClose,
}: {
  request: RegistryRequest;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshRegistry();
  const accessRoleNames = useAccessRoleNames();
  const [accessRoles, setAccessRoles] = useState<string[]>([]);
  const name = { username: request.username };
  return (
    <ConfirmModal
      title={t('registry.approve.title', name)}
      message={t(request.hasCsr ? 'registry.approve.messageCsr' : 'registry.approve.message', name)}
      confirmLabel={t('registry.approve.confirm')}
      color="teal"
      onClose={onClose}
      onConfirm={async () => {
        await registryApi.approve(request.id, accessRoles);
        notify.success(t('registry.approve.done', name));
        await refresh();
      }}
    >
      <MultiSelect
        label={t('registry.approve.accessRoles')}
        description={t('registry.approve.accessRolesHint')}
        value={accessRoles}
        onChange={setAccessRoles}
        data={accessRoleNames.data ?? []}
        searchable
        clearable
        hidePickedOptions
        nothingFoundMessage={t('users.form.accessRolesNone')}
        data-testid="approve-access-roles"
      />
    </ConfirmModal>
  );
}

/** Rejects a request; the device is told, with the reason given here. */
export function RejectRequestModal({
  request,
  onClose,
}: {
  request: RegistryRequest;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshRegistry();
  const [reason, setReason] = useState('');
  const name = { username: request.username };
  return (
    <ConfirmModal
      title={t('registry.reject.title', name)}
      message={t('registry.reject.message', name)}
      confirmLabel={t('registry.reject.confirm')}
      onClose={onClose}
      onConfirm={async () => {
        await registryApi.reject(request.id, reason);
        notify.success(t('registry.reject.done', name));
        await refresh();
      }}
    >
      <Textarea
        label={t('registry.reject.reason')}
        value={reason}
        onChange={(event) => setReason(event.currentTarget.value)}
        maxLength={500}
        autosize
        minRows={2}
      />
    </ConfirmModal>
  );
}
