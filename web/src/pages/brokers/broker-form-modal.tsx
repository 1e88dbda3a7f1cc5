import { Button, Group, SegmentedControl, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useMemo, useState } from 'react';
import { ApiError } from '../../api/client';
import type { Broker } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';
import {
  BROKER_KINDS,
  type BrokerDraft,
  configOf,
  draftOf,
  draftProblems,
  type FieldKey,
  type FieldProblem,
  fieldsOfPointers,
} from './broker-draft';
import { BrokerSnippetPanel } from './broker-snippet-panel';
import { brokersApi, useRefreshBrokers } from './brokers-api';
import { KindFields } from './kind-fields';

const PROBLEM_KEYS: Readonly<Record<FieldProblem, MessageKey>> = {
  required: 'brokers.problem.required',
  name: 'brokers.problem.name',
  url: 'brokers.problem.url',
  mqttUrl: 'brokers.problem.mqttUrl',
  tokenLength: 'brokers.problem.tokenLength',
  cidr: 'brokers.problem.cidr',
  invalid: 'brokers.problem.invalid',
};

/** The fields a refused save names (400 broker.invalid_config lists them as pointers). */
function serverFieldsOf(error: unknown): Set<string> {
  if (!(error instanceof ApiError) || error.code !== 'broker.invalid_config') return new Set();
  return fieldsOfPointers(error.items.map((item) => item.pointer));
}

/**
 * Adds a broker integration or edits one (name and kind fixed: the name is the key, and another kind is another
 * integration), or only shows it (`readOnly`, for users who may read but not change settings). Secrets are
 * write-only; see {@link SecretField}.
 */
export function BrokerFormModal({
  broker,
  readOnly,
  onClose,
}: {
  broker: Broker | null;
  readOnly: boolean;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshBrokers();
  const [draft, setDraft] = useState<BrokerDraft>(() => draftOf(broker));
  const [attempted, setAttempted] = useState(false);
  const set = (patch: Partial<BrokerDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const stored = useMemo(() => new Set(broker?.secrets ?? []), [broker]);
  const problems = draftProblems(draft, stored, broker === null);

  const save = useMutation({
    mutationFn: () => {
      const config = configOf(draft);
      return broker
        ? brokersApi.update(broker.name, { enabled: draft.enabled, config, version: broker.version })
        : brokersApi.create({ name: draft.name, kind: draft.kind, enabled: draft.enabled, config });
    },
    onSuccess: async (saved) => {
      notify.success(t(broker ? 'brokers.form.updated' : 'brokers.form.created', { name: saved.name }));
      onClose();
      await refresh();
    },
  });
  const serverFields = useMemo(() => serverFieldsOf(save.error), [save.error]);
  const errorOf = (key: FieldKey): string | undefined => {
    const problem = attempted ? problems.get(key) : undefined;
    if (problem) return t(PROBLEM_KEYS[problem]);
    return serverFields.has(key) ? t(PROBLEM_KEYS.invalid) : undefined;
  };

  const title = broker
    ? t(readOnly ? 'brokers.form.viewTitle' : 'brokers.form.editTitle', { name: broker.name })
    : t('brokers.form.createTitle');
  return (
    <Dialog onClose={onClose} title={title} size={760}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setAttempted(true);
          if (problems.size === 0) save.mutate();
        }}
        noValidate
      >
        <Stack gap="md">
          <Group grow align="flex-start">
            <TextInput
              label={t('brokers.form.name')}
              description={broker ? t('brokers.form.nameFixed') : t('brokers.form.nameRules')}
              value={draft.name}
              onChange={(event) => set({ name: event.currentTarget.value })}
              error={errorOf('name')}
              disabled={broker !== null}
              autoComplete="off"
              required
              data-autofocus
            />
            <Switch
              mt={28}
              label={t('brokers.form.enabled')}
              description={t('brokers.form.enabledHint')}
              checked={draft.enabled}
              onChange={(event) => set({ enabled: event.currentTarget.checked })}
              disabled={readOnly}
            />
          </Group>
          <Stack gap={4}>
            <Text size="sm" fw={500} id="broker-kind-label">
              {t('brokers.form.kind')}
            </Text>
            <SegmentedControl
              aria-labelledby="broker-kind-label"
              data={BROKER_KINDS.map((kind) => ({ value: kind, label: t(`brokers.kind.${kind}`) }))}
              value={draft.kind}
              onChange={(kind) =>
                setDraft((current) => ({
                  ...draftOf(null, kind as Broker['kind']),
                  name: current.name,
                  enabled: current.enabled,
                }))
              }
              disabled={broker !== null}
              fullWidth
            />
            <Text size="xs" c="dimmed">
              {t(`brokers.kind.${draft.kind}.hint`)}
            </Text>
          </Stack>
          <KindFields draft={draft} set={set} errorOf={errorOf} stored={stored} readOnly={readOnly} />
          <BrokerSnippetPanel draft={draft} />
          {save.isError && <FailureAlert error={save.error} />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              {readOnly ? t('common.close') : t('common.cancel')}
            </Button>
            {!readOnly && (
              <Button type="submit" loading={save.isPending}>
                {broker ? t('common.save') : t('brokers.form.create')}
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
