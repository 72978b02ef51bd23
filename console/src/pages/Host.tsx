import { Alert, Button, Card, Descriptions, Space, Table } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { useParams } from 'react-router-dom';

import { get, post } from '../api/client';
import type { Host as HostView, HostAgentProcess, Page, TaskInstance } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { useConfirm } from './confirm';
import { useTaskAction } from './taskAction';
import { Status, When } from './status';

// The charts bring their library: it loads with them, not with the host's facts.
const HostCharts = lazy(() => import('./HostCharts'));

/** One host: what it is, its agent and the agent's processes (restart, stop). */
export default function Host() {
  const t = useT();
  const { id } = useParams();
  const { may } = useSession();
  const ask = useConfirm();
  const host = useQuery({ queryKey: ['host', id], queryFn: () => get<HostView>(`/api/v2/compute/hosts/${id}`) });
  const processes = useQuery({
    queryKey: ['host', id, 'processes'],
    queryFn: () => get<Page<HostAgentProcess>>(`/api/v2/compute/hosts/${id}/agent/processes`),
  });
  const act = useTaskAction((path: string) => post<TaskInstance>(path), ['host', id]);
  const confirm = (title: string, path: string) => ask(title, () => act.mutateAsync(path));
  const mayUpdate = may('HOST:*:UPDATE');
  const base = `/api/v2/compute/hosts/${id}/agent`;

  if (host.error) {
    return <Alert type="error" showIcon message={t('common.loadFailed', { message: host.error.message })} />;
  }
  const h = host.data;
  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card
        loading={host.isLoading}
        title={h ? `${h.name} (${h.innerIpAddress})` : ''}
        extra={
          mayUpdate && (
            <Space>
              <Button data-testid="agent-restart" onClick={() => confirm(t('host.confirmRestartAgent'), `${base}/restart`)}>
                {t('host.restartAgent')}
              </Button>
              <Button danger onClick={() => confirm(t('host.confirmStopAgent'), `${base}/stop`)}>
                {t('host.stopAgent')}
              </Button>
            </Space>
          )
        }
      >
        {h && (
          <Descriptions column={3} size="small" data-testid="host-facts">
            <Descriptions.Item label={t('common.status')}>
              <Status value={h.status} />
            </Descriptions.Item>
            <Descriptions.Item label={t('host.agent')}>
              <Status value={h.hostAgentStatus} /> {h.hostAgentVersion}
            </Descriptions.Item>
            <Descriptions.Item label={t('host.idc')}>
              {h.regionName} / {h.idcName}
            </Descriptions.Item>
            <Descriptions.Item label={t('host.os')}>
              {[h.operatingSystem, h.operatingSystemRelease].filter(Boolean).join(' ')}
            </Descriptions.Item>
            <Descriptions.Item label={t('host.architecture')}>{h.architecture}</Descriptions.Item>
            <Descriptions.Item label={t('common.created')}>
              <When value={h.createTime} />
            </Descriptions.Item>
          </Descriptions>
        )}
      </Card>
      {h && (
        <Suspense fallback={null}>
          <HostCharts ip={h.innerIpAddress} />
        </Suspense>
      )}
      <Card title={t('host.processes')}>
        <Table<HostAgentProcess>
          rowKey="id"
          size="small"
          pagination={false}
          data-testid="agent-processes"
          loading={processes.isLoading}
          dataSource={processes.data?.contents ?? []}
          columns={[
            { title: t('common.name'), dataIndex: 'alias' },
            { title: 'PID', dataIndex: 'pid' },
            { title: t('common.status'), dataIndex: 'status', render: (s: string) => <Status value={s} /> },
            { title: t('host.ports'), dataIndex: 'ports' },
            { title: t('host.user'), dataIndex: 'user' },
            {
              title: '',
              key: 'actions',
              render: (_, p) =>
                mayUpdate &&
                p.operable && (
                  <Space size={0}>
                    <Button type="link" onClick={() => confirm(t('host.confirmRestartProcess', { name: p.alias }), `${base}/processes/${p.id}/restart`)}>
                      {t('host.restart')}
                    </Button>
                    <Button type="link" danger onClick={() => confirm(t('host.confirmStopProcess', { name: p.alias }), `${base}/processes/${p.id}/stop`)}>
                      {t('host.stop')}
                    </Button>
                  </Space>
                ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}
