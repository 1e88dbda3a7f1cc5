import { Button, type ButtonProps, CopyButton } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import type { CSSProperties, ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

interface CopyTextButtonProps extends Pick<ButtonProps, 'size' | 'variant' | 'color'> {
  readonly value: string;
  readonly label: string;
  readonly style?: CSSProperties;
}

/** Copies `value` to the clipboard; the button says "Copied" for a moment after. */
export function CopyTextButton({
  value,
  label,
  style,
  color,
  ...buttonProps
}: CopyTextButtonProps): ReactNode {
  const { t } = useI18n();
  return (
    <CopyButton value={value}>
      {({ copied, copy }) => (
        <Button
          {...buttonProps}
          color={copied ? 'teal' : color}
          leftSection={copied ? <IconCheck size={14} aria-hidden /> : <IconCopy size={14} aria-hidden />}
          onClick={copy}
          style={style}
        >
          {copied ? t('common.copied') : label}
        </Button>
      )}
    </CopyButton>
  );
}
