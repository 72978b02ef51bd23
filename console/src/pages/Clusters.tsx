import { Button, Card, Space, Table } from '@oceanbase/design';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';

import { get, query } from '../api/client';
import type { Cluster, ClusterStatus, Page } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { usePaging } from './paging';
import { StatusSearch } from './StatusSearch';
import { Status, When } from './status';

const STATUSES: ClusterStatus[] = [
  'RUNNING',
  'CREATING',
  'STOPPED',
  'STARTING',
  'STOPPING',
  'RESTARTING',
  'DELETING',
  'UNAVAILABLE',
  'OPERATING',
];

/** Clusters, paged and filtered (name, status) on the server. */
export default function Clusters() {
  const t = useT();
  const { may } = useSession();
  const navigate = useNavigate();
  const paging = usePaging();
  const [status, setStatus] = useState<string[]>([]);
  const [name, setName] = useState('');
  const clusters = useQuery({
    queryKey: ['clusters', paging.params, status, name],
    placeholderData: keepPreviousData,
    queryFn: () =>
      get<Page<Cluster>>(`/api/v2/ob/clusters${query({ ...paging.params, status: status.join(','), name })}`),
  });
  return (
    <Card
      title={t('nav.clusters')}
      extra={
        may('CLUSTER:*:CREATE') && (
          <Space>
            <Button onClick={() => navigate('/clusters/new?takeover')} data-testid="takeover-cluster">
              {t('cluster.takeOver')}
            </Button>
            <Button type="primary" onClick={() => navigate('/clusters/new')} data-testid="create-cluster">
              {t('cluster.create')}
            </Button>
          </Space>
        )
      }
    >
      <StatusSearch
        statuses={STATUSES}
        status={status}
        onStatus={(v) => {
          setStatus(v);
          paging.first();
        }}
        onSearch={(v) => {
          setName(v);
          paging.first();
        }}
      />
      <Table<Cluster>
        rowKey="id"
        data-testid="clusters"
        loading={clusters.isLoading}
        dataSource={clusters.data?.contents ?? []}
        pagination={paging.pagination(clusters.data?.page.totalElements)}
        columns={[
          {
            title: t('common.name'),
            dataIndex: 'name',
            render: (n: string, c) => <Link to={`/clusters/${c.id}`}>{n}</Link>,
          },
          { title: t('cluster.version'), dataIndex: 'obVersion' },
          { title: t('common.status'), dataIndex: 'status', render: (s: string) => <Status resource value={s} /> },
          { title: t('cluster.kind'), dataIndex: 'kind' },
          {
            title: t('cluster.role'),
            render: (_, c) => (c.primaryCluster ? `${c.type} (${c.primaryCluster.name})` : c.type),
          },
          { title: t('cluster.zones'), render: (_, c) => c.zones.length },
          { title: t('cluster.servers'), dataIndex: 'serverCount' },
          {
            title: t('cluster.hosts'),
            render: (_, c) =>
              c.zones
                .flatMap((z) => z.servers)
                .map((s) => `${s.ip}:${s.sqlPort}`)
                .join(', '),
          },
          { title: t('common.created'), dataIndex: 'createTime', render: (v: string) => <When value={v} /> },
        ]}
      />
    </Card>
  );
}
