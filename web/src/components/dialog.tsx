import { Modal, type ModalProps } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

/** The console's modal dialog: always open while mounted, centred, with a labelled close button. */
export function Dialog({
  closeLabel,
  ...props
}: Omit<ModalProps, 'opened'> & { closeLabel?: string }): ReactNode {
  const { t } = useI18n();
  return (
    <Modal opened centered closeButtonProps={{ 'aria-label': closeLabel ?? t('common.close') }} {...props} />
  );
}
