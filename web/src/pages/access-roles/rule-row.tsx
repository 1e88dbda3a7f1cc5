import { ActionIcon, Checkbox, Group, MultiSelect, NativeSelect, Table, TextInput } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { AccessRule } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import type { RuleDraftActions } from './use-rule-drafts';

const PERMISSIONS = ['allow', 'deny'] as const;
const ACTIONS = ['publish', 'subscribe', 'all', 'http'] as const;
type Action = (typeof ACTIONS)[number];
/** The methods an HTTP rule can name (the server's HTTP_METHODS). */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
type MqttRule = Exclude<AccessRule, { action: 'http' }>;
type HttpRule = Extract<AccessRule, { action: 'http' }>;
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

/**
 * The rule with another action. Between MQTT actions the topic and conditions stay; switching to or from HTTP
 * starts the rule's other fields afresh (a topic is no path).
 */
function withAction(rule: AccessRule, action: Action): AccessRule {
  if (action === rule.action) return rule;
  if (action === 'http') return { permission: rule.permission, action, path: '' };
  if (rule.action === 'http') return { permission: rule.permission, action, topic: '' };
  return { ...rule, action };
}

/** The cells of an MQTT rule: topic filter, QoS levels, retain flag. */
function MqttCells({
  rule,
  n,
  invalid,
  readOnly,
  change,
}: {
  rule: MqttRule;
  n: { n: number };
  invalid: boolean;
  readOnly: boolean;
  change: (rule: AccessRule) => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <>
      <Table.Td>
        <TextInput
          aria-label={t('accessRoles.rule.topicOf', n)}
          placeholder="devices/${username}/#"
          value={rule.topic}
          readOnly={readOnly}
          onChange={(event) => change({ ...rule, topic: event.currentTarget.value })}
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
              onChange={(event) =>
                change({ ...rule, qos: withQos(rule.qos, level, event.currentTarget.checked) })
              }
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
              change({ ...rule, retain: RETAIN_CHOICES[choice] });
          }}
          data={(Object.keys(RETAIN_CHOICES) as RetainChoice[]).map((choice) => ({
            value: choice,
            label: t(`accessRoles.retain.${choice}`),
          }))}
        />
      </Table.Td>
    </>
  );
}

/** The cells of an HTTP rule: path pattern and methods (none chosen = every method); no retain flag. */
function HttpCells({
  rule,
  n,
  invalid,
  readOnly,
  change,
}: {
  rule: HttpRule;
  n: { n: number };
  invalid: boolean;
  readOnly: boolean;
  change: (rule: AccessRule) => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <>
      <Table.Td>
        <TextInput
          aria-label={t('accessRoles.rule.pathOf', n)}
          placeholder="/grafana/**"
          value={rule.path}
          readOnly={readOnly}
          onChange={(event) => change({ ...rule, path: event.currentTarget.value })}
          error={invalid ? t('accessRoles.rule.invalidHttp') : undefined}
          spellCheck={false}
          autoComplete="off"
          miw={220}
        />
      </Table.Td>
      <Table.Td colSpan={2}>
        <MultiSelect
          aria-label={t('accessRoles.rule.methodsOf', n)}
          placeholder={
            rule.methods && rule.methods.length > 0 ? undefined : t('accessRoles.rule.everyMethod')
          }
          data={HTTP_METHODS}
          value={rule.methods ?? []}
          readOnly={readOnly}
          onChange={(methods) =>
            change({ ...rule, methods: HTTP_METHODS.filter((method) => methods.includes(method)) })
          }
          comboboxProps={{ withinPortal: true }}
          miw={200}
        />
      </Table.Td>
    </>
  );
}

/**
 * One rule of an access role as a table row: permission, action, then for MQTT the topic filter, QoS and retain,
 * for HTTP the path and methods; order.
 */
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
  const change = (next: AccessRule) => actions.change(ruleKey, next);
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
              ...rule,
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
            change(withAction(rule, ACTIONS.find((a) => a === event.currentTarget.value) ?? rule.action))
          }
          data={ACTIONS.map((a) => ({ value: a, label: t(`accessRoles.action.${a}`) }))}
        />
      </Table.Td>
      {rule.action === 'http' ? (
        <HttpCells rule={rule} n={n} invalid={invalid} readOnly={readOnly} change={change} />
      ) : (
        <MqttCells rule={rule} n={n} invalid={invalid} readOnly={readOnly} change={change} />
      )}
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
