import type { TablePaginationConfig } from '@oceanbase/design';
import { useCallback, useState } from 'react';

/**
 * The page a list shows, paged on the server: `params` goes into the list's query (and its
 * query key), `pagination(total)` into the table, `first()` when a filter changes.
 */
export function usePaging(size = 10) {
  const [page, setPage] = useState({ number: 1, size });
  const first = useCallback(() => setPage((p) => ({ ...p, number: 1 })), []);
  const pagination = (total: number | undefined): TablePaginationConfig => ({
    current: page.number,
    pageSize: page.size,
    total: total ?? 0,
    onChange: (number, size) => setPage({ number, size }),
  });
  return { params: { page: page.number, size: page.size }, first, pagination };
}
