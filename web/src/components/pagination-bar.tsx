import { Group, NativeSelect, Pagination, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

/** The page sizes every list endpoint accepts (docs/architecture.md#api-conventions). */
export const PAGE_SIZES = [25, 50, 100, 250] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export function toPageSize(value: string | null | undefined): PageSize {
  const size = Number(value);
  return PAGE_SIZES.find((candidate) => candidate === size) ?? 25;
}

/** Page, total and page size; long lists put one above and one below the table. */
export function PaginationBar({
  position,
  page,
  pageSize,
  total,
  onPageChange,
  onPageSizeChange,
}: {
  /** Distinguishes the two bars for assistive technology and tests. */
  position: 'top' | 'bottom';
  page: number;
  pageSize: PageSize;
  total: number;
  onPageChange: (page: number) => void;
  onPageSizeChange: (size: PageSize) => void;
}): ReactNode {
  const { t, language } = useI18n();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <Group
      component="nav"
      aria-label={t(position === 'top' ? 'pagination.labelTop' : 'pagination.labelBottom')}
      justify="space-between"
      gap="sm"
      py="xs"
      data-testid={`pagination-${position}`}
    >
      <Text size="sm" c="dimmed" data-testid="pagination-total">
        {t('pagination.total', { total: total.toLocaleString(language) })}
      </Text>
      <Group gap="sm">
        <Pagination
          total={pages}
          value={Math.min(page, pages)}
          onChange={onPageChange}
          size="sm"
          siblings={1}
          getItemProps={(item) => ({ 'aria-label': t('pagination.page', { page: item }) })}
          getControlProps={(control) => ({ 'aria-label': t(`pagination.${control}`) })}
        />
        <NativeSelect
          size="xs"
          aria-label={t('pagination.pageSize')}
          value={String(pageSize)}
          onChange={(event) => onPageSizeChange(toPageSize(event.currentTarget.value))}
          data={PAGE_SIZES.map((size) => ({ value: String(size), label: t('pagination.perPage', { size }) }))}
        />
      </Group>
    </Group>
  );
}
