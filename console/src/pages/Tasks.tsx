import { Card, DatePicker, Input, InputNumber, Select, Space, Table } from '@oceanbase/design';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { get, query } from '../api/client';
import type { BasicTaskInstance, Page } from '../api/types';
import { useT } from '../i18n';
import { Status, When } from './status';
import { usePaging } from './paging';

/** Tasks, newest first, paged and filtered on the server. */
export default function Tasks() {
  const t = useT();
  return (
    <Card title={t('nav.tasks')}>
      <TaskList />
    </Card>
  );
}

/** The task list with its filters; a cluster's page shows it for that cluster alone. */
export function TaskList({ cluster }: { cluster?: number }) {
  const t = useT();
  const paging = usePaging();
  const [status, setStatus] = useState<string | undefined>();
  const [type, setType] = useState<string | undefined>();
  const [name, setName] = useState('');
  const [hostId, setHostId] = useState<number | null>(null);
  const [clusterFilter, setClusterId] = useState<number | null>(null);
  const clusterId = cluster ?? clusterFilter;
  const [created, setCreated] = useState<[string, string] | null>(null);
  const { first } = paging;
  const tasks = useQuery({
    queryKey: ['tasks', paging.params, status, type, name, hostId, clusterId, created],
    placeholderData: keepPreviousData,
    queryFn: () =>
      get<Page<BasicTaskInstance>>(
        `/api/v2/tasks/instances${query({
          ...paging.params,
          status,
          type,
          name,
          hostId,
          clusterId,
          startTime: created?.[0],
          endTime: created?.[1],
          sort: 'id,desc',
        })}`,
      ),
  });
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          allowClear
          style={{ minWidth: 160 }}
          placeholder={t('common.status')}
          options={['RUNNING', 'FAILED', 'SUCCESSFUL'].map((s) => ({ value: s, label: s }))}
          value={status}
          onChange={(v) => {
            setStatus(v);
            first();
          }}
        />
        <Select
          allowClear
          style={{ minWidth: 140 }}
          placeholder={t('task.type')}
          options={['MANUAL', 'SYS_ONECE', 'SCHEDULED', 'SYS_SCHEDULED'].map((s) => ({ value: s, label: s }))}
          value={type}
          onChange={(v) => {
            setType(v);
            first();
          }}
        />
        <Input.Search
          allowClear
          placeholder={t('task.name')}
          onSearch={(v) => {
            setName(v);
            first();
          }}
        />
        <InputNumber
          min={1}
          placeholder={t('task.hostId')}
          value={hostId}
          onChange={(v) => {
            setHostId(v === null ? null : Number(v));
            first();
          }}
        />
        {cluster === undefined && (
          <InputNumber
            min={1}
            placeholder={t('task.clusterId')}
            value={clusterId}
            onChange={(v) => {
              setClusterId(v === null ? null : Number(v));
              first();
            }}
          />
        )}
        <DatePicker.RangePicker
          showTime
          onChange={(range) => {
            setCreated(range?.[0] && range[1] ? [range[0].toISOString(), range[1].toISOString()] : null);
            first();
          }}
        />
      </Space>
      <Table<BasicTaskInstance>
        rowKey="id"
        data-testid="tasks"
        loading={tasks.isLoading}
        dataSource={tasks.data?.contents ?? []}
        pagination={paging.pagination(tasks.data?.page.totalElements)}
        columns={[
          { title: t('common.id'), dataIndex: 'id', width: 80 },
          {
            title: t('task.name'),
            dataIndex: 'name',
            render: (name: string, task) => <Link to={`/tasks/${task.id}`}>{name}</Link>,
          },
          { title: t('task.type'), dataIndex: 'type' },
          { title: t('common.status'), dataIndex: 'status', render: (s: string) => <Status value={s} /> },
          { title: t('task.creator'), render: (_, task) => task.creator?.name },
          { title: t('task.started'), dataIndex: 'startTime', render: (v: string) => <When value={v} /> },
          { title: t('task.finished'), dataIndex: 'finishTime', render: (v: string) => <When value={v} /> },
        ]}
      />
    </>
  );
}
