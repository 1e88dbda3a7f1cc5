import { Stack, Text } from '@mantine/core';
import type { Icon } from '@tabler/icons-react';
import type { ReactNode } from 'react';

export function EmptyState({
  icon: IconComponent,
  title,
  hint,
}: {
  icon: Icon;
  title: string;
  hint?: string;
}): ReactNode {
  return (
    <Stack align="center" gap={6} py="xl" data-testid="empty-state">
      <IconComponent size={40} stroke={1.4} aria-hidden />
      <Text fw={600}>{title}</Text>
      {hint && (
        <Text size="sm" c="dimmed" ta="center" maw={420}>
          {hint}
        </Text>
      )}
    </Stack>
  );
}
