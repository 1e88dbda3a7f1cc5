import { Button, Group, NativeSelect, NumberInput, Stack, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { CreatedEnrolmentToken } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { SecretShownOnce } from '../../components/secret-shown-once';
import { useI18n } from '../../i18n/i18n';
import { registryApi, useRefreshRegistry } from './registry-api';

/** Validity choices, in days from now (the server accepts up to a year). */
const EXPIRY_DAYS = [1, 7, 30, 90] as const;
const DAY_MS = 86_400_000;
const MAX_USES = 100_000;

/** Creates an enrolment token for a batch of devices: what it is for, how many uses, how long; shown once. */
export function EnrolmentTokenFormModal({ onClose }: { onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshRegistry();
  const [name, setName] = useState('');
  const [uses, setUses] = useState<number>(1);
  const [expiryDays, setExpiryDays] = useState<number>(7);
  const [created, setCreated] = useState<CreatedEnrolmentToken | null>(null);

  const save = useMutation({
    mutationFn: () =>
      registryApi.createToken({
        name: name.trim(),
        uses,
        expiresAt: new Date(Date.now() + expiryDays * DAY_MS).toISOString(),
      }),
    onSuccess: async (token) => {
      notify.success(t('registry.tokens.created'));
      setCreated(token);
      await refresh();
    },
  });

  if (created) {
    return (
      <Dialog onClose={onClose} title={t('registry.tokens.createTitle')}>
        <SecretShownOnce
          secret={created.secret}
          title={t('registry.tokens.secret.title')}
          message={t('registry.tokens.secret.once', { uses: created.token.maxUses })}
          onDone={onClose}
        />
      </Dialog>
    );
  }

  return (
    <Dialog onClose={onClose} title={t('registry.tokens.createTitle')}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <TextInput
            label={t('registry.tokens.form.name')}
            description={t('registry.tokens.form.nameHint')}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            maxLength={100}
            autoComplete="off"
            data-autofocus
          />
          <Group grow align="flex-start">
            <NumberInput
              label={t('registry.tokens.form.uses')}
              value={uses}
              onChange={(value) => setUses(typeof value === 'number' ? value : 1)}
              min={1}
              max={MAX_USES}
              allowDecimal={false}
              allowNegative={false}
              clampBehavior="strict"
              data-testid="token-uses"
            />
            <NativeSelect
              label={t('registry.tokens.form.expiry')}
              value={String(expiryDays)}
              onChange={(event) => setExpiryDays(Number(event.currentTarget.value))}
              data={EXPIRY_DAYS.map((days) => ({
                value: String(days),
                label: t('registry.tokens.form.expiryDays', { days }),
              }))}
            />
          </Group>
          {save.isError && <FailureAlert error={save.error} />}
          <Group justify="flex-end" gap="sm" mt="xs">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending}>
              {t('registry.tokens.form.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
