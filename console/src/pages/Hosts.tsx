import { Card, Input, Select, Space, Table } from '@oceanbase/design';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { get, query } from '../api/client';
import type { Host, Page } from '../api/types';
import { useT } from '../i18n';
import { Status, When } from './status';

const STATUSES = ['NEW', 'AVAILABLE', 'ONLINE', 'OFFLINE', 'DELETING'];

/** Hosts, paged and filtered on the server. */
export default function Hosts() {
  const t = useT();
  const [page, setPage] = useState({ number: 1, size: 10 });
  const [status, setStatus] = useState<string[]>([]);
  const [keyword, setKeyword] = useState('');
  const hosts = useQuery({
    queryKey: ['hosts', page, status, keyword],
    placeholderData: keepPreviousData,
    queryFn: () =>
      get<Page<Host>>(
        `/api/v2/compute/hosts${query({ page: page.number, size: page.size, status: status.join(','), keyword })}`,
      ),
  });
  return (
    <Card title={t('nav.hosts')}>
      <Space style={{ marginBottom: 16 }}>
        <Select
          mode="multiple"
          allowClear
          style={{ minWidth: 220 }}
          placeholder={t('common.status')}
          options={STATUSES.map((s) => ({ value: s, label: s }))}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage({ ...page, number: 1 });
          }}
        />
        <Input.Search
          allowClear
          placeholder={t('common.search')}
          onSearch={(v) => {
            setKeyword(v);
            setPage({ ...page, number: 1 });
          }}
        />
      </Space>
      <Table<Host>
        rowKey="id"
        data-testid="hosts"
        loading={hosts.isLoading}
        dataSource={hosts.data?.contents ?? []}
        pagination={{
          current: page.number,
          pageSize: page.size,
          total: hosts.data?.page.totalElements ?? 0,
          onChange: (number, size) => setPage({ number, size }),
        }}
        columns={[
          { title: t('host.address'), dataIndex: 'innerIpAddress' },
          { title: t('host.name'), dataIndex: 'name' },
          { title: t('common.status'), dataIndex: 'status', render: (s: string) => <Status value={s} /> },
          { title: t('host.agent'), dataIndex: 'hostAgentStatus', render: (s: string) => <Status value={s} /> },
          { title: t('host.idc'), dataIndex: 'idcName' },
          { title: t('host.os'), render: (_, h) => [h.operatingSystem, h.operatingSystemRelease].filter(Boolean).join(' ') },
          { title: t('common.created'), dataIndex: 'createTime', render: (v: string) => <When value={v} /> },
        ]}
      />
    </Card>
  );
}
