import { App, Button, Form, InputNumber, Modal, Select, Space, Switch, Table } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post, put } from '../../api/client';
import type { AlarmChannel, AlarmRule, AlarmSubscription, Page } from '../../api/types';
import { useT } from '../../i18n';
import { useSession } from '../../session';
import { showRefusal, useConfirm } from '../confirm';
import { LEVELS } from '../status';

type SubscriptionForm = Pick<AlarmSubscription, 'channelId' | 'alarmTypes' | 'maxLevel' | 'sendResolved' | 'repeatSeconds' | 'enabled'>;

/** Which channel hears which alert items, up to which level, how often repeated. */
export default function Subscriptions() {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [form] = Form.useForm<SubscriptionForm>();
  const [editing, setEditing] = useState<AlarmSubscription | 'new' | null>(null);
  const subscriptions = useQuery({ queryKey: ['alarm-subscriptions'], queryFn: () => get<Page<AlarmSubscription>>('/api/v2/alarm/subscriptions?size=200') });
  const channels = useQuery({ queryKey: ['alarm-channels'], queryFn: () => get<Page<AlarmChannel>>('/api/v2/alarm/channels?size=200') });
  const rules = useQuery({ queryKey: ['alarm-rules', 'all'], queryFn: () => get<Page<AlarmRule>>('/api/v2/alarm/rules?size=2000') });
  const refresh = () => client.invalidateQueries({ queryKey: ['alarm-subscriptions'] });
  const save = useMutation({
    mutationFn: (v: SubscriptionForm) =>
      editing === 'new' ? post('/api/v2/alarm/subscriptions', v) : put(`/api/v2/alarm/subscriptions/${(editing as AlarmSubscription).id}`, v),
    onSuccess: async () => {
      await refresh();
      setEditing(null);
      message.success(t('common.saved'));
    },
    onError: (e) => showRefusal(form.setFields as never, e, (m) => message.error(m)),
  });
  const channelName = (id: number) => channels.data?.contents.find((c) => c.id === id)?.name ?? `#${id}`;
  const open = (s: AlarmSubscription | 'new') => {
    setEditing(s);
    form.resetFields();
    form.setFieldsValue(s === 'new' ? { alarmTypes: [], maxLevel: 5, sendResolved: true, repeatSeconds: 0, enabled: true } : s);
  };
  return (
    <>
      {may('ALARM:*:CREATE') && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => open('new')}>
          {t('alert.createSubscription')}
        </Button>
      )}
      <Table<AlarmSubscription>
        rowKey="id"
        size="small"
        data-testid="subscriptions"
        loading={subscriptions.isLoading}
        dataSource={subscriptions.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('alert.channel'), dataIndex: 'channelId', render: channelName },
          { title: t('alert.items'), dataIndex: 'alarmTypes', render: (types: string[]) => (types.length === 0 ? t('alert.allItems') : types.join(', ')) },
          { title: t('alert.upToLevel'), dataIndex: 'maxLevel', render: (l: number) => LEVELS[l] },
          { title: t('alert.sendResolved'), dataIndex: 'sendResolved', render: (b: boolean) => (b ? t('compaction.yes') : t('compaction.no')) },
          { title: t('alert.repeat'), dataIndex: 'repeatSeconds', render: (s: number) => (s > 0 ? `${s} s` : '-') },
          { title: t('alert.enabled'), dataIndex: 'enabled', render: (b: boolean) => (b ? t('compaction.yes') : t('compaction.no')) },
          {
            title: '',
            render: (_, s) =>
              may('ALARM:*:UPDATE') && (
                <Space size={0}>
                  <Button type="link" size="small" onClick={() => open(s)}>
                    {t('parameter.edit')}
                  </Button>
                  <Button
                    type="link"
                    size="small"
                    danger
                    onClick={() => ask(t('alert.confirmDeleteSubscription'), () => del(`/api/v2/alarm/subscriptions/${s.id}`).then(refresh), { danger: true })}
                  >
                    {t('common.delete')}
                  </Button>
                </Space>
              ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        width={640}
        title={t('alert.createSubscription')}
        okButtonProps={{ loading: save.isPending }}
        onCancel={() => setEditing(null)}
        onOk={() => void form.validateFields().then((v) => save.mutate(v))}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="channelId" label={t('alert.channel')} rules={[{ required: true, message: t('login.required') }]}>
            <Select options={(channels.data?.contents ?? []).map((c) => ({ value: c.id, label: c.name }))} />
          </Form.Item>
          <Form.Item name="alarmTypes" label={t('alert.items')} extra={t('alert.allItemsHint')}>
            <Select mode="multiple" options={(rules.data?.contents ?? []).map((r) => ({ value: r.name, label: `${r.name} (${r.alarmName})` }))} />
          </Form.Item>
          <Space wrap>
            <Form.Item name="maxLevel" label={t('alert.upToLevel')}>
              <Select style={{ width: 140 }} options={Object.entries(LEVELS).map(([v, label]) => ({ value: Number(v), label }))} />
            </Form.Item>
            <Form.Item name="repeatSeconds" label={t('alert.repeatSeconds')}>
              <InputNumber min={0} style={{ width: 120 }} />
            </Form.Item>
            <Form.Item name="sendResolved" label={t('alert.sendResolved')} valuePropName="checked">
              <Switch />
            </Form.Item>
            <Form.Item name="enabled" label={t('alert.enabled')} valuePropName="checked">
              <Switch />
            </Form.Item>
          </Space>
        </Form>
      </Modal>
    </>
  );
}
