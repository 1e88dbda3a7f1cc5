import { Button, Table, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n';
import { RuleRow } from './rule-row';
import type { RuleDraft, RuleDraftActions } from './use-rule-drafts';

/** An access role's rules in evaluation order (first match wins), editable unless `readOnly`. */
export function RulesEditor({
  drafts,
  actions,
  invalidIndexes,
  readOnly,
}: {
  drafts: readonly RuleDraft[];
  actions: RuleDraftActions;
  invalidIndexes: ReadonlySet<number>;
  readOnly: boolean;
}): ReactNode {
  const { t } = useI18n();
  return (
    <div>
      <Text size="sm" fw={500}>
        {t('accessRoles.rules')}
      </Text>
      <Text size="xs" c="dimmed" mb={4}>
        {t('accessRoles.rules.hint')}
      </Text>
      {drafts.length > 0 && (
        <Table.ScrollContainer minWidth={900}>
          <Table verticalSpacing={4} data-testid="rules-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>{t('accessRoles.rule.permission')}</Table.Th>
                <Table.Th>{t('accessRoles.rule.action')}</Table.Th>
                <Table.Th>{t('accessRoles.rule.topic')}</Table.Th>
                <Table.Th>{t('accessRoles.rule.qos')}</Table.Th>
                <Table.Th>{t('accessRoles.rule.retain')}</Table.Th>
                {!readOnly && <Table.Th ta="right">{t('accessRoles.rule.order')}</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {drafts.map((draft, position) => (
                <RuleRow
                  key={draft.key}
                  ruleKey={draft.key}
                  rule={draft.rule}
                  position={position}
                  count={drafts.length}
                  invalid={invalidIndexes.has(position)}
                  readOnly={readOnly}
                  actions={actions}
                />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {drafts.length === 0 && (
        <Text size="sm" py="xs">
          {t('accessRoles.rules.none')}
        </Text>
      )}
      {!readOnly && (
        <Button
          variant="light"
          size="compact-sm"
          mt="xs"
          leftSection={<IconPlus size={14} aria-hidden />}
          onClick={actions.add}
        >
          {t('accessRoles.rule.add')}
        </Button>
      )}
    </div>
  );
}
