import { Button, Card, Modal, Space, Table, Typography } from '@oceanbase/design';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { get, post, query } from '../api/client';
import type { Host, JoinToken, Page, TaskInstance } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { useConfirm } from './confirm';
import { useTaskAction } from './taskAction';
import { Status, When } from './status';
import { usePaging } from './paging';
import { StatusSearch } from './StatusSearch';

const STATUSES = ['NEW', 'AVAILABLE', 'ONLINE', 'OFFLINE', 'DELETING'];

/** Hosts, paged and filtered on the server. */
export default function Hosts() {
  const t = useT();
  const { may } = useSession();
  const paging = usePaging();
  const join = useMutation({ mutationFn: () => post<JoinToken>('/api/v2/compute/agentJoinTokens', {}) });
  const ask = useConfirm();
  const [selected, setSelected] = useState<number[]>([]);
  const batch = useTaskAction((action: 'batchRestartAgents' | 'batchStopAgents') =>
    post<TaskInstance>(`/api/v2/compute/hosts/${action}`, { hostIds: selected }),
  );
  const confirmBatch = (action: 'batchRestartAgents' | 'batchStopAgents', title: string) =>
    ask(title, () => batch.mutateAsync(action), { danger: action === 'batchStopAgents' });
  const mayUpdate = may('HOST:*:UPDATE');
  const [status, setStatus] = useState<string[]>([]);
  const [keyword, setKeyword] = useState('');
  const hosts = useQuery({
    queryKey: ['hosts', paging.params, status, keyword],
    placeholderData: keepPreviousData,
    queryFn: () =>
      get<Page<Host>>(
        `/api/v2/compute/hosts${query({ ...paging.params, status: status.join(','), keyword })}`,
      ),
  });
  return (
    <Card
      title={t('nav.hosts')}
      extra={
        <Space>
          {mayUpdate && (
            <>
              <Button
                disabled={selected.length === 0}
                data-testid="batch-restart"
                onClick={() => confirmBatch('batchRestartAgents', t('host.confirmBatchRestart', { n: selected.length }))}
              >
                {t('host.batchRestart')}
              </Button>
              <Button
                danger
                disabled={selected.length === 0}
                onClick={() => confirmBatch('batchStopAgents', t('host.confirmBatchStop', { n: selected.length }))}
              >
                {t('host.batchStop')}
              </Button>
            </>
          )}
          {may('HOST:*:CREATE') && (
            <Button type="primary" data-testid="add-host" loading={join.isPending} onClick={() => join.mutate()}>
              {t('host.add')}
            </Button>
          )}
        </Space>
      }
    >
      <Modal
        open={join.data !== undefined || join.error !== null}
        title={t('host.add')}
        footer={null}
        onCancel={() => join.reset()}
      >
        {join.error && <Typography.Text type="danger">{join.error.message}</Typography.Text>}
        {join.data && (
          <>
            <Typography.Paragraph>{t('host.addHint')}</Typography.Paragraph>
            <Typography.Paragraph copyable code data-testid="join-command">
              {`ocp-agent run --server ${window.location.origin} --join-token ${join.data.token} --advertise-ip HOST_IP`}
            </Typography.Paragraph>
          </>
        )}
      </Modal>
      <StatusSearch
        statuses={STATUSES}
        status={status}
        onStatus={(v) => {
          setStatus(v);
          paging.first();
        }}
        onSearch={(v) => {
          setKeyword(v);
          paging.first();
        }}
      />
      <Table<Host>
        rowKey="id"
        data-testid="hosts"
        rowSelection={
          mayUpdate
            ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys.map(Number)) }
            : undefined
        }
        loading={hosts.isLoading}
        dataSource={hosts.data?.contents ?? []}
        pagination={paging.pagination(hosts.data?.page.totalElements)}
        columns={[
          {
            title: t('host.address'),
            dataIndex: 'innerIpAddress',
            render: (address: string, h) => <Link to={`/hosts/${h.id}`}>{address}</Link>,
          },
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
