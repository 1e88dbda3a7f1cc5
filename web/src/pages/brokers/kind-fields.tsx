import { Fieldset, NumberInput, Select, Stack, Switch, TextInput } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n';
import type { FieldsProps } from './broker-fields';
import { HookAccessFields } from './hook-access-fields';
import { SecretField } from './secret-field';

/** Mosquitto 2 with dynamic security: where the broker listens and the dynsec admin Warden acts as. */
function MosquittoFields({ draft, set, errorOf, stored, readOnly }: FieldsProps): ReactNode {
  const { t } = useI18n();
  return (
    <Fieldset legend={t('brokers.form.connection')}>
      <Stack gap="sm">
        <TextInput
          label={t('brokers.form.url')}
          description={t('brokers.form.urlHint')}
          placeholder="mqtt://mosquitto:1883"
          value={draft.url}
          onChange={(event) => set({ url: event.currentTarget.value })}
          error={errorOf('url')}
          readOnly={readOnly}
          required
        />
        <TextInput
          label={t('brokers.form.adminUsername')}
          description={t('brokers.form.adminUsernameHint')}
          value={draft.adminUsername}
          onChange={(event) => set({ adminUsername: event.currentTarget.value })}
          error={errorOf('adminUsername')}
          readOnly={readOnly}
          autoComplete="off"
          required
        />
        <SecretField
          label={t('brokers.form.adminPassword')}
          isSet={stored.has('adminPassword')}
          clearable={false}
          draft={draft.adminPassword}
          onChange={(adminPassword) => set({ adminPassword })}
          error={errorOf('adminPassword')}
          readOnly={readOnly}
        />
        <Select
          label={t('brokers.form.clientIdBinding')}
          description={t('brokers.form.clientIdBindingHint')}
          data={[
            { value: 'none', label: t('brokers.form.clientIdBinding.none') },
            { value: 'username', label: t('brokers.form.clientIdBinding.username') },
          ]}
          value={draft.clientIdBinding}
          onChange={(value) => set({ clientIdBinding: value === 'username' ? 'username' : 'none' })}
          allowDeselect={false}
          readOnly={readOnly}
        />
        <NumberInput
          label={t('brokers.form.timeoutMs')}
          value={draft.timeoutMs}
          onChange={(value) => set({ timeoutMs: Number(value) || 0 })}
          min={100}
          max={60_000}
          step={500}
          error={errorOf('timeoutMs')}
          readOnly={readOnly}
        />
        <Switch
          label={t('brokers.form.rejectUnauthorized')}
          description={t('brokers.form.rejectUnauthorizedHint')}
          checked={draft.rejectUnauthorized}
          onChange={(event) => set({ rejectUnauthorized: event.currentTarget.checked })}
          disabled={readOnly}
        />
      </Stack>
    </Fieldset>
  );
}

/** EMQX's optional management API: lets Warden purge the authorization cache and kick revoked clients. */
function EmqxManagementFields({ draft, set, errorOf, stored, readOnly }: FieldsProps): ReactNode {
  const { t } = useI18n();
  const managed = draft.managementUrl.trim() !== '';
  return (
    <Fieldset legend={t('brokers.form.management')}>
      <Stack gap="sm">
        <TextInput
          label={t('brokers.form.managementUrl')}
          description={t('brokers.form.managementUrlHint')}
          placeholder="http://emqx:18083"
          value={draft.managementUrl}
          onChange={(event) => set({ managementUrl: event.currentTarget.value })}
          error={errorOf('managementUrl')}
          readOnly={readOnly}
        />
        {managed && (
          <>
            <TextInput
              label={t('brokers.form.apiKey')}
              value={draft.apiKey}
              onChange={(event) => set({ apiKey: event.currentTarget.value })}
              error={errorOf('apiKey')}
              readOnly={readOnly}
              autoComplete="off"
            />
            <SecretField
              label={t('brokers.form.apiSecret')}
              isSet={stored.has('apiSecret')}
              clearable={false}
              draft={draft.apiSecret}
              onChange={(apiSecret) => set({ apiSecret })}
              error={errorOf('apiSecret')}
              readOnly={readOnly}
            />
          </>
        )}
      </Stack>
    </Fieldset>
  );
}

/** How the broker treats users Warden does not know, and the other per-kind answers. */
function BehaviourFields({ draft, set, readOnly }: FieldsProps): ReactNode {
  const { t } = useI18n();
  return (
    <Fieldset legend={t('brokers.form.behaviour')}>
      <Stack gap="sm">
        {draft.kind === 'emqx' && (
          <>
            <Select
              label={t('brokers.form.unknownUser')}
              data={[
                { value: 'deny', label: t('brokers.form.unknownUser.deny') },
                { value: 'ignore', label: t('brokers.form.unknownUser.ignore') },
              ]}
              value={draft.emqxUnknownUser}
              onChange={(value) => set({ emqxUnknownUser: value === 'ignore' ? 'ignore' : 'deny' })}
              allowDeselect={false}
              readOnly={readOnly}
            />
            <Switch
              label={t('brokers.form.authnAcl')}
              description={t('brokers.form.authnAclHint')}
              checked={draft.authnAcl}
              onChange={(event) => set({ authnAcl: event.currentTarget.checked })}
              disabled={readOnly}
            />
          </>
        )}
        {draft.kind === 'go-auth' && (
          <Select
            label={t('brokers.form.responseMode')}
            description={t('brokers.form.responseModeHint')}
            data={['status', 'json', 'text']}
            value={draft.responseMode}
            onChange={(value) =>
              set({ responseMode: value === 'json' || value === 'text' ? value : 'status' })
            }
            allowDeselect={false}
            readOnly={readOnly}
          />
        )}
        {draft.kind === 'vernemq' && (
          <Select
            label={t('brokers.form.unknownUser')}
            data={[
              { value: 'deny', label: t('brokers.form.unknownUser.deny') },
              { value: 'next', label: t('brokers.form.unknownUser.next') },
            ]}
            value={draft.vernemqUnknownUser}
            onChange={(value) => set({ vernemqUnknownUser: value === 'next' ? 'next' : 'deny' })}
            allowDeselect={false}
            readOnly={readOnly}
          />
        )}
      </Stack>
    </Fieldset>
  );
}

/** The settings of the draft's kind. */
export function KindFields(props: FieldsProps): ReactNode {
  if (props.draft.kind === 'mosquitto') return <MosquittoFields {...props} />;
  return (
    <>
      <HookAccessFields {...props} />
      {props.draft.kind === 'emqx' && <EmqxManagementFields {...props} />}
      <BehaviourFields {...props} />
    </>
  );
}
