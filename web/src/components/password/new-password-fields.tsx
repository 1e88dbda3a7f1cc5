import { List, PasswordInput, Skeleton, Stack, Text, ThemeIcon, VisuallyHidden } from '@mantine/core';
import { IconCheck, IconX } from '@tabler/icons-react';
import { type ReactNode, useId, useState } from 'react';
import type { PasswordPolicy } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';
import { type PasswordRule, passwordChecks } from './password-rules';
import { usePasswordPolicy } from './use-password-policy';

/** The longest password the server accepts (it refuses, never truncates, longer ones). */
const MAX_PASSWORD_LENGTH = 128;

const RULE_LABELS: Record<PasswordRule, MessageKey> = {
  min_length: 'password.rule.min_length',
  uppercase: 'password.rule.uppercase',
  lowercase: 'password.rule.lowercase',
  digit: 'password.rule.digit',
  special: 'password.rule.special',
};

export interface NewPasswordState {
  readonly password: string;
  readonly confirm: string;
  readonly setPassword: (value: string) => void;
  readonly setConfirm: (value: string) => void;
  /** Every policy rule met and both fields equal. */
  readonly valid: boolean;
  readonly reset: () => void;
}

export function useNewPassword(): NewPasswordState {
  const policy = usePasswordPolicy().data;
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const valid =
    policy !== undefined &&
    password.length > 0 &&
    password === confirm &&
    passwordChecks(policy, password).every((check) => check.met);
  return {
    password,
    confirm,
    setPassword,
    setConfirm,
    valid,
    reset: () => {
      setPassword('');
      setConfirm('');
    },
  };
}

function PolicyChecklist({ policy, password, id }: { policy: PasswordPolicy; password: string; id: string }) {
  const { t } = useI18n();
  return (
    <div id={id}>
      <Text size="sm" fw={500} mb={4}>
        {t('password.requirements')}
      </Text>
      <List spacing={2} size="sm" center data-testid="password-checklist">
        {passwordChecks(policy, password).map((check) => (
          <List.Item
            key={check.rule}
            data-met={check.met}
            icon={
              <ThemeIcon color={check.met ? 'teal' : 'gray'} size={18} radius="xl" aria-hidden>
                {check.met ? <IconCheck size={12} /> : <IconX size={12} />}
              </ThemeIcon>
            }
          >
            <Text span size="sm" c={check.met ? undefined : 'dimmed'}>
              {t(RULE_LABELS[check.rule], { min: policy.minLength })}
            </Text>
            <VisuallyHidden>{` — ${check.met ? t('password.met') : t('password.notMet')}`}</VisuallyHidden>
          </List.Item>
        ))}
      </List>
    </div>
  );
}

/**
 * New password + confirmation with the policy checklist (docs/authentication.md#password-policy), checked as
 * typed.
 */
export function NewPasswordFields({
  state,
  labels = { password: 'password.new', confirm: 'password.confirm' },
}: {
  state: NewPasswordState;
  labels?: { password: MessageKey; confirm: MessageKey };
}): ReactNode {
  const { t } = useI18n();
  const policy = usePasswordPolicy();
  const checklistId = useId();
  const mismatch = state.confirm.length > 0 && state.confirm !== state.password;
  return (
    <Stack gap="sm">
      <PasswordInput
        label={t(labels.password)}
        value={state.password}
        onChange={(event) => state.setPassword(event.currentTarget.value)}
        maxLength={MAX_PASSWORD_LENGTH}
        autoComplete="new-password"
        aria-describedby={checklistId}
        required
      />
      <PasswordInput
        label={t(labels.confirm)}
        value={state.confirm}
        onChange={(event) => state.setConfirm(event.currentTarget.value)}
        maxLength={MAX_PASSWORD_LENGTH}
        autoComplete="new-password"
        error={mismatch ? t('password.mismatch') : undefined}
        required
      />
      {policy.data ? (
        <PolicyChecklist policy={policy.data} password={state.password} id={checklistId} />
      ) : (
        <Skeleton height={110} id={checklistId} />
      )}
    </Stack>
  );
}
