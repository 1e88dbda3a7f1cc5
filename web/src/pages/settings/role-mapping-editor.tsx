import { ActionIcon, Button, MultiSelect, NativeSelect, Stack, Table, Text, TextInput } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { mayGrant, ROLES, type Role, roleCanHold, SCOPES, type Scope } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { useI18n } from '../../i18n/i18n';
import { type MappingDraft, mappingRow } from './sso-provider-draft';

/** At most this many entries (the server's limit). */
const MAX_ENTRIES = 100;

/**
 * The role mapping: rows "groups claim value → role (+ scopes)". At sign-in the highest role among all matching
 * rows wins and their scopes are united (docs/sso.md#role-mapping). Roles the signed-in user could not grant
 * are offered disabled, as the server refuses them.
 */
export function RoleMappingEditor({
  rows,
  onChange,
  groupsClaim,
}: {
  rows: readonly MappingDraft[];
  onChange: (rows: MappingDraft[]) => void;
  groupsClaim: string;
}): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const change = (key: number, patch: Partial<MappingDraft>) =>
    onChange(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {t('sso.form.mapping')}
      </Text>
      <Text size="xs" c="dimmed">
        {groupsClaim === ''
          ? t('sso.form.mappingNoGroups')
          : t('sso.form.mappingHint', { claim: groupsClaim })}
      </Text>
      {rows.length > 0 && (
        <Table.ScrollContainer minWidth={620}>
          <Table verticalSpacing={4} data-testid="role-mapping">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('sso.form.mappingValue')}</Table.Th>
                <Table.Th>{t('sso.form.mappingRole')}</Table.Th>
                <Table.Th>{t('sso.form.mappingScopes')}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row, index) => {
                const n = { n: index + 1 };
                const holdable = SCOPES.filter((scope) => roleCanHold(row.role, scope));
                return (
                  <Table.Tr key={row.key}>
                    <Table.Td>
                      <TextInput
                        aria-label={t('sso.form.mappingValueOf', n)}
                        placeholder="plant-operators"
                        value={row.value}
                        onChange={(event) => change(row.key, { value: event.currentTarget.value })}
                        autoComplete="off"
                        spellCheck={false}
                        miw={180}
                      />
                    </Table.Td>
                    <Table.Td>
                      <NativeSelect
                        aria-label={t('sso.form.mappingRoleOf', n)}
                        value={row.role}
                        onChange={(event) => {
                          const role = ROLES.find((r) => r === event.currentTarget.value) ?? row.role;
                          change(row.key, {
                            role,
                            scopes: row.scopes.filter((scope) => roleCanHold(role, scope)),
                          });
                        }}
                        data={[...ROLES].reverse().map((role: Role) => ({
                          value: role,
                          label: t(`role.${role}`),
                          disabled: !mayGrant(me, role, []),
                        }))}
                      />
                    </Table.Td>
                    <Table.Td>
                      <MultiSelect
                        aria-label={t('sso.form.mappingScopesOf', n)}
                        placeholder={row.scopes.length === 0 ? t('sso.form.roleDefaults') : undefined}
                        value={[...row.scopes]}
                        onChange={(values) =>
                          change(row.key, { scopes: SCOPES.filter((scope: Scope) => values.includes(scope)) })
                        }
                        data={holdable.map((scope) => ({
                          value: scope,
                          label: t(`scope.${scope}`),
                          disabled: !mayGrant(me, 'viewer', [scope]),
                        }))}
                        miw={200}
                        clearable
                      />
                    </Table.Td>
                    <Table.Td>
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={t('sso.form.mappingRemoveOf', n)}
                        onClick={() => onChange(rows.filter((other) => other.key !== row.key))}
                      >
                        <IconTrash size={16} aria-hidden />
                      </ActionIcon>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <div>
        <Button
          variant="light"
          size="xs"
          leftSection={<IconPlus size={14} aria-hidden />}
          disabled={groupsClaim === '' || rows.length >= MAX_ENTRIES}
          onClick={() => onChange([...rows, mappingRow()])}
        >
          {t('sso.form.mappingAdd')}
        </Button>
      </div>
    </Stack>
  );
}
