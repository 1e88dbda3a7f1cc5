import { Button, Group, Stack, Textarea, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useMemo, useState } from 'react';
import { ApiError } from '../../api/client';
import type { AccessRole } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { accessRolesApi, useRefreshAccessRoles } from './access-roles-api';
import { RulesEditor } from './rules-editor';
import { useRuleDrafts } from './use-rule-drafts';

const NAME_PATTERN = /^[A-Za-z0-9_.-]{3,50}$/;

/** The rule positions a refused save names (`errors[].index` of 400 access_role.invalid_rule). */
function invalidIndexesOf(error: unknown): Set<number> {
  if (!(error instanceof ApiError) || error.code !== 'access_role.invalid_rule') return new Set();
  return new Set(error.items.flatMap((item) => (item.index === undefined ? [] : [item.index])));
}

/**
 * Create an access role, edit one (name fixed: it is the natural key), or only view it (`readOnly`, for users
 * who may not change access roles).
 */
export function AccessRoleFormModal({
  accessRole,
  readOnly,
  onClose,
}: {
  accessRole: AccessRole | null;
  readOnly: boolean;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshAccessRoles();
  const [name, setName] = useState(accessRole?.name ?? '');
  const [nameTouched, setNameTouched] = useState(false);
  const [description, setDescription] = useState(accessRole?.description ?? '');
  const [drafts, actions, rules] = useRuleDrafts(accessRole?.rules ?? []);
  const nameValid = NAME_PATTERN.test(name);

  const save = useMutation({
    mutationFn: () =>
      accessRole
        ? accessRolesApi.update(accessRole.name, { description, rules, version: accessRole.version })
        : accessRolesApi.create({ name, description, rules }),
    onSuccess: async (saved) => {
      notify.success(
        t(accessRole ? 'accessRoles.form.updated' : 'accessRoles.form.created', { name: saved.name }),
      );
      onClose();
      await refresh();
    },
  });
  const invalidIndexes = useMemo(() => invalidIndexesOf(save.error), [save.error]);

  const title = accessRole
    ? t(readOnly ? 'accessRoles.form.viewTitle' : 'accessRoles.form.editTitle', { name: accessRole.name })
    : t('accessRoles.form.createTitle');
  return (
    <Dialog onClose={onClose} title={title} size={1100}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setNameTouched(true);
          if (accessRole || nameValid) save.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <TextInput
            label={t('accessRoles.form.name')}
            description={accessRole ? t('accessRoles.form.nameFixed') : t('accessRoles.form.nameRules')}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            onBlur={() => setNameTouched(true)}
            error={!accessRole && nameTouched && !nameValid ? t('accessRoles.form.nameInvalid') : undefined}
            disabled={accessRole !== null}
            autoComplete="off"
            required
            data-autofocus
          />
          <Textarea
            label={t('accessRoles.form.description')}
            value={description}
            onChange={(event) => setDescription(event.currentTarget.value)}
            readOnly={readOnly}
            maxLength={500}
            autosize
            minRows={1}
            maxRows={4}
          />
          <RulesEditor
            drafts={drafts}
            actions={actions}
            invalidIndexes={invalidIndexes}
            readOnly={readOnly}
          />
          {save.isError && <FailureAlert error={save.error} />}
          <Group justify="flex-end" gap="sm" mt="xs">
            <Button variant="default" onClick={onClose}>
              {readOnly ? t('common.close') : t('common.cancel')}
            </Button>
            {!readOnly && (
              <Button type="submit" loading={save.isPending}>
                {accessRole ? t('common.save') : t('accessRoles.form.create')}
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
