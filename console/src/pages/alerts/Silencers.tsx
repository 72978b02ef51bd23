import { App, Button, DatePicker, Form, Input, Modal, Select, Table, Tag } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post } from '../../api/client';
import type { AlarmRule, AlarmSilencer, Page } from '../../api/types';
import { useT } from '../../i18n';
import { useSession } from '../../session';
import { showRefusal, useConfirm } from '../confirm';
import { When } from '../status';

interface SilencerForm {
  alarmTypes: string[];
  target?: string;
  range: [{ toISOString(): string }, { toISOString(): string }];
  comment: string;
}

/** Blocking conditions: which alerts stay quiet, for which target, until when. */
export default function Silencers() {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [form] = Form.useForm<SilencerForm>();
  const [creating, setCreating] = useState(false);
  const silencers = useQuery({ queryKey: ['alarm-silencers'], queryFn: () => get<Page<AlarmSilencer>>('/api/v2/alarm/silencers?size=200') });
  const rules = useQuery({ queryKey: ['alarm-rules', 'all'], queryFn: () => get<Page<AlarmRule>>('/api/v2/alarm/rules?size=2000') });
  const refresh = () => client.invalidateQueries({ queryKey: ['alarm-silencers'] });
  const create = useMutation({
    mutationFn: (v: SilencerForm) =>
      post('/api/v2/alarm/silencers', {
        alarmTypes: v.alarmTypes ?? [],
        matchers: v.target ? { alarm_target: v.target } : {},
        startsAt: v.range[0].toISOString(),
        endsAt: v.range[1].toISOString(),
        comment: v.comment ?? '',
      }),
    onSuccess: async () => {
      await refresh();
      setCreating(false);
      message.success(t('common.saved'));
    },
    onError: (e) => showRefusal(form.setFields as never, e, (m) => message.error(m)),
  });
  return (
    <>
      {may('ALARM:*:CREATE') && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => setCreating(true)}>
          {t('alert.createSilencer')}
        </Button>
      )}
      <Table<AlarmSilencer>
        rowKey="id"
        size="small"
        data-testid="silencers"
        loading={silencers.isLoading}
        dataSource={silencers.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('alert.items'), dataIndex: 'alarmTypes', render: (types: string[]) => (types.length === 0 ? t('alert.allItems') : types.join(', ')) },
          {
            title: t('alert.matchers'),
            dataIndex: 'matchers',
            render: (m: Record<string, string>) => Object.entries(m).map(([k, v]) => <Tag key={k}>{`${k}=${v}`}</Tag>),
          },
          { title: t('alert.startsAt'), dataIndex: 'startsAt', render: (v: string) => <When value={v} /> },
          { title: t('alert.endsAt'), dataIndex: 'endsAt', render: (v: string) => <When value={v} /> },
          { title: t('alert.comment'), dataIndex: 'comment' },
          { title: t('task.creator'), dataIndex: 'creator' },
          { title: '', dataIndex: 'inEffect', render: (on: boolean) => (on ? <Tag color="green">{t('alert.inEffect')}</Tag> : <Tag>{t('alert.notInEffect')}</Tag>) },
          {
            title: '',
            render: (_, s) =>
              may('ALARM:*:DELETE') && (
                <Button
                  type="link"
                  size="small"
                  danger
                  onClick={() => ask(t('alert.confirmDeleteSilencer'), () => del(`/api/v2/alarm/silencers/${s.id}`).then(refresh), { danger: true })}
                >
                  {t('common.delete')}
                </Button>
              ),
          },
        ]}
      />
      <Modal
        open={creating}
        width={640}
        title={t('alert.createSilencer')}
        okButtonProps={{ loading: create.isPending }}
        onCancel={() => setCreating(false)}
        onOk={() => void form.validateFields().then((v) => create.mutate(v))}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="alarmTypes" label={t('alert.items')} extra={t('alert.allItemsHint')}>
            <Select mode="multiple" options={(rules.data?.contents ?? []).map((r) => ({ value: r.name, label: `${r.name} (${r.alarmName})` }))} />
          </Form.Item>
          <Form.Item name="target" label={t('alert.target')}>
            <Input />
          </Form.Item>
          <Form.Item name="range" label={t('alert.period')} rules={[{ required: true, message: t('login.required') }]}>
            <DatePicker.RangePicker showTime />
          </Form.Item>
          <Form.Item name="comment" label={t('alert.comment')}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
