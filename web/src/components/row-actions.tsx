import { ActionIcon, Group } from '@mantine/core';
import type { Icon } from '@tabler/icons-react';
import type { ReactNode } from 'react';

export interface RowAction<Action extends string> {
  readonly action: Action;
  readonly icon: Icon;
  /** The verb, shown as the hint and, with the row's subject, read by screen readers ("Edit: plant-floor"). */
  readonly label: string;
  readonly color?: string;
}

/** A table row's icon buttons, right-aligned; tests find them by `data-action`. */
export function RowActions<Action extends string>({
  actions,
  subject,
  onAction,
}: {
  actions: readonly RowAction<Action>[];
  subject: string;
  onAction: (action: Action) => void;
}): ReactNode {
  return (
    <Group gap={4} wrap="nowrap" justify="flex-end">
      {actions.map((spec) => (
        <ActionIcon
          key={spec.action}
          variant="subtle"
          color={spec.color ?? 'gray'}
          onClick={() => onAction(spec.action)}
          aria-label={`${spec.label}: ${subject}`}
          data-hint={spec.label}
          data-action={spec.action}
        >
          <spec.icon size={18} aria-hidden />
        </ActionIcon>
      ))}
    </Group>
  );
}
