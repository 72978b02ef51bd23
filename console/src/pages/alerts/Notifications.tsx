import { Select, Space, Table, Tag, Typography } from '@oceanbase/design';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { get, query } from '../../api/client';
import type { AlarmChannel, Notification, Page } from '../../api/types';
import { useT } from '../../i18n';
import { usePaging } from '../paging';
import { Level, When } from '../status';

const STATUS_COLORS: Record<string, string> = { Success: 'green', Failed: 'red', Pending: 'blue', Sending: 'blue', Limited: 'orange' };

/** Notifications sent (or not), newest first, each with every delivery attempt. */
export default function Notifications() {
  const t = useT();
  const paging = usePaging(20);
  const [status, setStatus] = useState<string | undefined>();
  const [channelId, setChannelId] = useState<number | undefined>();
  const channels = useQuery({ queryKey: ['alarm-channels'], queryFn: () => get<Page<AlarmChannel>>('/api/v2/alarm/channels?size=200') });
  const notifications = useQuery({
    queryKey: ['alarm-notifications', paging.params, status, channelId],
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
    queryFn: () => get<Page<Notification>>(`/api/v2/alarm/notifications${query({ ...paging.params, status, channelId })}`),
  });
  return (
    <>
      <Space style={{ marginBottom: 16 }}>
        <Select
          allowClear
          placeholder={t('common.status')}
          style={{ width: 140 }}
          value={status}
          onChange={(v) => {
            setStatus(v);
            paging.first();
          }}
          options={Object.keys(STATUS_COLORS).map((s) => ({ value: s, label: s }))}
        />
        <Select
          allowClear
          placeholder={t('alert.channel')}
          style={{ width: 200 }}
          value={channelId}
          onChange={(v) => {
            setChannelId(v);
            paging.first();
          }}
          options={(channels.data?.contents ?? []).map((c) => ({ value: c.id, label: c.name }))}
        />
      </Space>
      <Table<Notification>
        rowKey="id"
        size="small"
        data-testid="notifications"
        loading={notifications.isLoading}
        dataSource={notifications.data?.contents ?? []}
        pagination={paging.pagination(notifications.data?.page.totalElements)}
        expandable={{
          expandedRowRender: (n) => (
            <Space direction="vertical" size={2}>
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{n.message}</Typography.Paragraph>
              {n.attempts.map((a) => (
                <span key={a.attempt}>
                  #{a.attempt} <When value={a.at} /> {a.successful ? <Tag color="green">OK</Tag> : <Tag color="red">{t('alert.testFailed')}</Tag>}
                  <Typography.Text code>{a.response}</Typography.Text>
                </span>
              ))}
            </Space>
          ),
        }}
        columns={[
          { title: t('alert.level'), dataIndex: 'level', render: (l: number) => <Level value={l} /> },
          { title: t('alert.item'), dataIndex: 'alarmType' },
          { title: t('alert.channel'), dataIndex: 'channelId', render: (id: number) => channels.data?.contents.find((c) => c.id === id)?.name ?? `#${id}` },
          { title: t('common.status'), dataIndex: 'status', render: (s: string) => <Tag color={STATUS_COLORS[s]}>{s}</Tag> },
          { title: t('alert.attempts'), render: (_, n) => n.attempts.length },
          { title: t('alert.generatedAt'), dataIndex: 'generatedAt', render: (v: string) => <When value={v} /> },
          { title: t('alert.sentAt'), dataIndex: 'sentAt', render: (v: string) => <When value={v} /> },
        ]}
      />
    </>
  );
}
