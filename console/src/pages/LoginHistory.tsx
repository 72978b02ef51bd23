import { Input, Space, Table, Tag } from '@oceanbase/design';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { get, query } from '../api/client';
import type { LoginHistoryEntry, Page } from '../api/types';
import { useT } from '../i18n';
import { When } from './status';

/** Console logins, newest first, as OCP's logon history shows them. */
export function LoginHistory() {
  const t = useT();
  const [page, setPage] = useState({ number: 1, size: 10 });
  const [username, setUsername] = useState('');
  const history = useQuery({
    queryKey: ['loginHistory', page, username],
    placeholderData: keepPreviousData,
    queryFn: () =>
      get<Page<LoginHistoryEntry>>(
        `/api/v2/iam/loginHistory${query({ page: page.number, size: page.size, username })}`,
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
            setPage({ ...page, number: 1 });
          }}
        />
      </Space>
      <Table<LoginHistoryEntry>
        rowKey="id"
        data-testid="login-history"
        loading={history.isLoading}
        dataSource={history.data?.contents ?? []}
        pagination={{
          current: page.number,
          pageSize: page.size,
          total: history.data?.page.totalElements ?? 0,
          onChange: (number, size) => setPage({ number, size }),
        }}
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
