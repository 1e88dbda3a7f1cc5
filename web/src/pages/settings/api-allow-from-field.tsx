import { Text, Textarea } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useI18n } from '../../i18n/i18n';

/** The networks typed one per line (commas and spaces separate too). */
export function parseNetworks(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((entry, index) => entry === b[index]);

/**
 * `apiAllowFrom`: the networks the management API answers, one per line, with the address Warden sees for this
 * browser (trustProxy applied) — the server refuses a list that would not include it.
 */
export function ApiAllowFromField({
  value,
  onChange,
}: {
  value: readonly string[];
  onChange: (networks: string[]) => void;
}): ReactNode {
  const { t } = useI18n();
  const [text, setText] = useState(value.join('\n'));
  // A reset or a save replaces the list: show it, unless it is what the text already says.
  useEffect(() => {
    setText((current) => (sameList(parseNetworks(current), value) ? current : value.join('\n')));
  }, [value]);
  const requester = useQuery({
    queryKey: ['settings', 'requester-address'],
    queryFn: () => unwrap(api.GET('/api/v1/settings/requester-address')),
  });
  return (
    <>
      <Textarea
        label={t('security.apiAllowFrom')}
        description={t('security.apiAllowFromHint')}
        placeholder={'10.0.0.0/8\n2001:db8::/32'}
        autosize
        minRows={3}
        maw={420}
        value={text}
        onChange={(event) => {
          setText(event.currentTarget.value);
          onChange(parseNetworks(event.currentTarget.value));
        }}
      />
      {requester.data && (
        <Text size="sm" mt="xs" data-testid="requester-address">
          {t('security.yourAddress', { address: requester.data.address })}
        </Text>
      )}
    </>
  );
}
