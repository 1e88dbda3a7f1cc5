import { Group, Text, ThemeIcon } from '@mantine/core';
import { IconShieldCheck } from '@tabler/icons-react';
import type { ReactNode } from 'react';

export function Logo(): ReactNode {
  return (
    <Group gap={8} wrap="nowrap">
      <ThemeIcon size="md" radius="md" aria-hidden>
        <IconShieldCheck size={18} />
      </ThemeIcon>
      <Text fw={700} size="lg">
        Warden
      </Text>
    </Group>
  );
}
