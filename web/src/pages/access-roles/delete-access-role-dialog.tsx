import { type ReactNode, useState } from 'react';
import { ApiError } from '../../api/client';
import type { AccessRole } from '../../api/types';
import { ConfirmModal } from '../../components/confirm-modal';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { accessRolesApi, useRefreshAccessRoles } from './access-roles-api';

/**
 * Deletes an access role. While users hold it the server refuses (409 access_role.in_use); the dialog then
 * says so and offers "Delete anyway", which removes the role from those users too (`?force=true`).
 */
export function DeleteAccessRoleDialog({
  accessRole,
  onClose,
}: {
  accessRole: AccessRole;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshAccessRoles();
  const [force, setForce] = useState(false);
  const name = { name: accessRole.name };
  return (
    <ConfirmModal
      title={t('accessRoles.delete.title', name)}
      message={t(force ? 'accessRoles.delete.inUse' : 'accessRoles.delete.message', name)}
      confirmLabel={t(force ? 'accessRoles.delete.force' : 'accessRoles.delete.confirm')}
      onClose={onClose}
      onConfirm={async () => {
        try {
          await accessRolesApi.remove(accessRole.name, force);
        } catch (error) {
          if (error instanceof ApiError && error.code === 'access_role.in_use') setForce(true);
          throw error;
        }
        notify.success(t('accessRoles.delete.done', name));
        await refresh();
      }}
    />
  );
}
