import { App, Button, DatePicker, Descriptions, Drawer, Input, Select, Space, Table, Typography } from '@oceanbase/design';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { get, post, query } from '../../api/client';
import type { Alarm } from '../../api/types';
import { useT } from '../../i18n';
import { useSession } from '../../session';
import { usePaging } from '../paging';
import { LEVELS, Level, When } from '../status';

const STATUSES = ['Active', 'Silenced', 'Inactive'];
const SILENCE_HOURS = [1, 6, 24, 72];

/** Alert events, newest first, filtered and paged on the server; a row opens its detail. */
export function Events() {
  const t = useT();
  const paging = usePaging(20);
  const [level, setLevel] = useState<number | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const [alarmType, setAlarmType] = useState('');
  const [keyword, setKeyword] = useState('');
  const [range, setRange] = useState<[string, string] | null>(null);
  const [open, setOpen] = useState<Alarm | null>(null);
  const filter = { level, status, alarmType, keyword, activeAtStart: range?.[0], activeAtEnd: range?.[1] };
  const events = useQuery({
    queryKey: ['alarms', paging.params, filter],
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
    queryFn: () => get<{ contents: Alarm[]; page: { totalElements: number } }>(`/api/v2/alarm/alarms${query({ ...paging.params, ...filter })}`),
  });
  const set = <T,>(setter: (v: T) => void) => (v: T) => {
    setter(v);
    paging.first();
  };
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          allowClear
          placeholder={t('alert.level')}
          style={{ width: 140 }}
          value={level}
          onChange={set(setLevel)}
          options={Object.entries(LEVELS).map(([v, label]) => ({ value: Number(v), label }))}
        />
        <Select
          allowClear
          placeholder={t('common.status')}
          style={{ width: 140 }}
          value={status}
          onChange={set(setStatus)}
          options={STATUSES.map((s) => ({ value: s, label: s }))}
          data-testid="event-status"
        />
        <Input.Search allowClear placeholder={t('alert.item')} onSearch={set(setAlarmType)} style={{ width: 240 }} />
        <Input.Search allowClear placeholder={t('alert.targetOrText')} onSearch={set(setKeyword)} style={{ width: 240 }} />
        <DatePicker.RangePicker
          showTime
          onChange={(r) => set(setRange)(r?.[0] && r[1] ? [r[0].toISOString(), r[1].toISOString()] : null)}
        />
      </Space>
      <Table<Alarm>
        rowKey="id"
        size="small"
        data-testid="events"
        loading={events.isLoading}
        dataSource={events.data?.contents ?? []}
        pagination={paging.pagination(events.data?.page.totalElements)}
        onRow={(event) => ({ onClick: () => setOpen(event), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('alert.level'), dataIndex: 'level', render: (l: number) => <Level value={l} />, width: 110 },
          { title: t('alert.summary'), dataIndex: 'summary', ellipsis: true },
          { title: t('alert.target'), dataIndex: 'target', ellipsis: true },
          { title: t('alert.item'), dataIndex: 'alarmType' },
          { title: t('common.status'), dataIndex: 'status' },
          { title: t('alert.activeAt'), dataIndex: 'activeAt', render: (v: string) => <When value={v} /> },
          { title: t('alert.resolvedAt'), dataIndex: 'resolvedAt', render: (v: string) => <When value={v} /> },
        ]}
      />
      {open && <EventDetail event={open} onClose={() => setOpen(null)} />}
    </>
  );
}

/** One event: what fired, on what, since when; silence it (a blocking condition) in one click. */
function EventDetail({ event, onClose }: { event: Alarm; onClose: () => void }) {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [hours, setHours] = useState(6);
  const silence = useMutation({
    mutationFn: () =>
      post('/api/v2/alarm/silencers', {
        alarmTypes: [event.alarmType],
        matchers: { alarm_target: event.target },
        endsAt: new Date(Date.now() + hours * 3_600_000).toISOString(),
        comment: t('alert.silencedFrom', { id: event.id }),
      }),
    onSuccess: async () => {
      message.success(t('alert.silenced', { hours }));
      await client.invalidateQueries({ queryKey: ['alarms'] });
      await client.invalidateQueries({ queryKey: ['alert-counts'] });
      onClose();
    },
    onError: (e: Error) => message.error(e.message),
  });
  const labels = Object.entries(event.labels as Record<string, string>).filter(([k]) => !k.startsWith('alarm_'));
  return (
    <Drawer open width={640} title={event.summary} onClose={onClose} data-testid="event-detail">
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('alert.level')}>
          <Level value={event.level} />
        </Descriptions.Item>
        <Descriptions.Item label={t('common.status')}>{event.status}</Descriptions.Item>
        <Descriptions.Item label={t('alert.item')}>{event.alarmType}</Descriptions.Item>
        <Descriptions.Item label={t('alert.target')}>{event.target}</Descriptions.Item>
        <Descriptions.Item label={t('alert.description')}>{event.description}</Descriptions.Item>
        <Descriptions.Item label={t('alert.activeAt')}>
          <When value={event.activeAt} />
        </Descriptions.Item>
        <Descriptions.Item label={t('alert.updatedAt')}>
          <When value={event.updatedAt} />
        </Descriptions.Item>
        <Descriptions.Item label={t('alert.resolvedAt')}>
          <When value={event.resolvedAt} />
        </Descriptions.Item>
        <Descriptions.Item label={t('alert.labels')}>
          {labels.map(([k, v]) => (
            <div key={k}>
              <Typography.Text type="secondary">{k}</Typography.Text> {v}
            </div>
          ))}
        </Descriptions.Item>
      </Descriptions>
      {may('ALARM:*:CREATE') && event.status === 'Active' && (
        <Space style={{ marginTop: 16 }}>
          <Select value={hours} onChange={setHours} options={SILENCE_HOURS.map((h) => ({ value: h, label: t('alert.forHours', { hours: h }) }))} style={{ width: 140 }} />
          <Button type="primary" loading={silence.isPending} onClick={() => silence.mutate()} data-testid="silence-event">
            {t('alert.silence')}
          </Button>
        </Space>
      )}
    </Drawer>
  );
}
