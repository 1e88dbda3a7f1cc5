import { Button, Table } from '@mantine/core';
import type { Icon } from '@tabler/icons-react';
import type { ReactNode } from 'react';

/** A row's one ending action as a labelled red button cell: sign a session out, disconnect a client. */
export function RowEndButton({
  icon: IconComponent,
  label,
  ariaLabel,
  loading,
  onClick,
}: {
  icon: Icon;
  label: string;
  /** Names the row too ("Disconnect dora-sensor-1"): every row's button says the same visible word. */
  ariaLabel: string;
  loading: boolean;
  onClick: () => void;
}): ReactNode {
  return (
    <Table.Td ta="right">
      <Button
        size="compact-sm"
        variant="light"
        color="red"
        leftSection={<IconComponent size={14} aria-hidden />}
        loading={loading}
        onClick={onClick}
        aria-label={ariaLabel}
      >
        {label}
      </Button>
    </Table.Td>
  );
}
