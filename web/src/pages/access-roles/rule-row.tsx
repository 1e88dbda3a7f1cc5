import { ActionIcon, Checkbox, Group, NativeSelect, Table, TextInput } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { AccessRule } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import type { RuleDraftActions } from './use-rule-drafts';

const PERMISSIONS = ['allow', 'deny'] as const;
const ACTIONS = ['publish', 'subscribe', 'all'] as const;
const QOS_LEVELS = [0, 1, 2] as const;
type Qos = (typeof QOS_LEVELS)[number];
const RETAIN_CHOICES = { any: undefined, retained: true, notRetained: false } as const;
type RetainChoice = keyof typeof RETAIN_CHOICES;

function retainChoice(retain: boolean | undefined): RetainChoice {
  if (retain === undefined) return 'any';
  return retain ? 'retained' : 'notRetained';
}

function withQos(qos: readonly Qos[] | undefined, level: Qos, on: boolean): Qos[] {
  const rest = (qos ?? []).filter((q) => q !== level);
  return on ? [...rest, level].sort() : rest;
}

/** One rule of an access role as a table row: permission, action, topic filter, QoS, retain, order. */
export function RuleRow({
  ruleKey,
  rule,
  position,
  count,
  invalid,
  readOnly,
  actions,
}: {
  ruleKey: number;
  rule: AccessRule;
  /** 0-based place in the evaluation order. */
  position: number;
  count: number;
  /** The server refused this rule (400 access_role.invalid_rule, `errors[].index`). */
  invalid: boolean;
  readOnly: boolean;
  actions: RuleDraftActions;
}): ReactNode {
  const { t } = useI18n();
  const n = { n: position + 1 };
  const change = (patch: Partial<AccessRule>) => actions.change(ruleKey, patch);
  return (
    <Table.Tr data-rule-index={position} data-invalid={invalid || undefined}>
      <Table.Td>{position + 1}</Table.Td>
      <Table.Td>
        <NativeSelect
          aria-label={t('accessRoles.rule.permissionOf', n)}
          value={rule.permission}
          disabled={readOnly}
          onChange={(event) =>
            change({
              permission: PERMISSIONS.find((p) => p === event.currentTarget.value) ?? rule.permission,
            })
          }
          data={PERMISSIONS.map((p) => ({ value: p, label: t(`accessRoles.permission.${p}`) }))}
        />
      </Table.Td>
      <Table.Td>
        <NativeSelect
          aria-label={t('accessRoles.rule.actionOf', n)}
          value={rule.action}
          disabled={readOnly}
          onChange={(event) =>
            change({ action: ACTIONS.find((a) => a === event.currentTarget.value) ?? rule.action })
          }
          data={ACTIONS.map((a) => ({ value: a, label: t(`accessRoles.action.${a}`) }))}
        />
      </Table.Td>
      <Table.Td>
        <TextInput
          aria-label={t('accessRoles.rule.topicOf', n)}
          placeholder="devices/${username}/#"
          value={rule.topic}
          readOnly={readOnly}
          onChange={(event) => change({ topic: event.currentTarget.value })}
          error={invalid ? t('accessRoles.rule.invalid') : undefined}
          spellCheck={false}
          autoComplete="off"
          miw={220}
        />
      </Table.Td>
      <Table.Td>
        <Group gap={8} wrap="nowrap">
          {QOS_LEVELS.map((level) => (
            <Checkbox
              key={level}
              label={level}
              aria-label={t('accessRoles.rule.qosOf', { ...n, qos: level })}
              checked={rule.qos?.includes(level) ?? false}
              disabled={readOnly}
              onChange={(event) => change({ qos: withQos(rule.qos, level, event.currentTarget.checked) })}
            />
          ))}
        </Group>
      </Table.Td>
      <Table.Td>
        <NativeSelect
          aria-label={t('accessRoles.rule.retainOf', n)}
          value={retainChoice(rule.retain)}
          disabled={readOnly}
          onChange={(event) => {
            const choice = event.currentTarget.value;
            if (choice === 'any' || choice === 'retained' || choice === 'notRetained')
              change({ retain: RETAIN_CHOICES[choice] });
          }}
          data={(Object.keys(RETAIN_CHOICES) as RetainChoice[]).map((choice) => ({
            value: choice,
            label: t(`accessRoles.retain.${choice}`),
          }))}
        />
      </Table.Td>
      {!readOnly && (
        <Table.Td>
          <Group gap={2} wrap="nowrap" justify="flex-end">
            <ActionIcon
              variant="subtle"
              color="gray"
              disabled={position === 0}
              onClick={() => actions.move(ruleKey, -1)}
              aria-label={t('accessRoles.rule.moveUp', n)}
            >
              <IconArrowUp size={16} aria-hidden />
            </ActionIcon>
            <ActionIcon
              variant="subtle"
              color="gray"
              disabled={position === count - 1}
              onClick={() => actions.move(ruleKey, 1)}
              aria-label={t('accessRoles.rule.moveDown', n)}
            >
              <IconArrowDown size={16} aria-hidden />
            </ActionIcon>
            <ActionIcon
              variant="subtle"
              color="red"
              onClick={() => actions.remove(ruleKey)}
              aria-label={t('accessRoles.rule.remove', n)}
            >
              <IconTrash size={16} aria-hidden />
            </ActionIcon>
          </Group>
        </Table.Td>
      )}
    </Table.Tr>
  );
}
