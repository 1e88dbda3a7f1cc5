import { notifications } from '@mantine/notifications';
import { useMemo } from 'react';
import { useI18n } from '../i18n/i18n';

export interface Notify {
  success(message: string): void;
  failure(message: string): void;
}

/** Toasts for the outcome of an action, with a close button screen readers can name. */
export function useNotify(): Notify {
  const { t } = useI18n();
  return useMemo(() => {
    const show = (color: string, message: string) =>
      notifications.show({ color, message, closeButtonProps: { 'aria-label': t('common.close') } });
    return { success: (message) => show('teal', message), failure: (message) => show('red', message) };
  }, [t]);
}
