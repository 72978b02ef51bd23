import { Input, Space, Table, Tag } from '@oceanbase/design';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { get, query } from '../api/client';
import type { LoginHistoryEntry, Page } from '../api/types';
import { useT } from '../i18n';
import { When } from './status';
import { usePaging } from './paging';

/** Console logins, newest first, as OCP's logon history shows them. */
export function LoginHistory() {
  const t = useT();
  const paging = usePaging();
  const [username, setUsername] = useState('');
  const history = useQuery({
    queryKey: ['loginHistory', paging.params, username],
    placeholderData: keepPreviousData,
    queryFn: () =>
      get<Page<LoginHistoryEntry>>(
        `/api/v2/iam/loginHistory${query({ ...paging.params, username })}`,
      ),
  });
  return (
    <>
      <Space style={{ marginBottom: 16 }}>
        <Input.Search
          allowClear
          placeholder={t('login.username')}
          onSearch={(v) => {
            setUsername(v);
            paging.first();
          }}
        />
      </Space>
      <Table<LoginHistoryEntry>
        rowKey="id"
        data-testid="login-history"
        loading={history.isLoading}
        dataSource={history.data?.contents ?? []}
        pagination={paging.pagination(history.data?.page.totalElements)}
        columns={[
          { title: t('login.username'), dataIndex: 'username' },
          { title: t('history.address'), dataIndex: 'clientAddress' },
          { title: t('history.client'), dataIndex: 'client', ellipsis: true },
          { title: t('history.time'), dataIndex: 'loginTime', render: (v: string) => <When value={v} /> },
          {
            title: t('history.result'),
            render: (_, r) =>
              r.successful ? (
                <Tag color="green">{t('history.succeeded')}</Tag>
              ) : (
                <Tag color="red" title={r.reason}>
                  {r.lockedOut ? t('history.lockedOut') : t('history.failed')}
                </Tag>
              ),
          },
        ]}
      />
    </>
  );
}
