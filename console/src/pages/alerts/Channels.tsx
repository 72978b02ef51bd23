import { Alert, App, Button, Form, Input, InputNumber, Modal, Select, Space, Table, Typography } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post, put } from '../../api/client';
import type { AlarmChannel, ChannelTestResult, Page } from '../../api/types';
import { useT } from '../../i18n';
import { useSession } from '../../session';
import { showRefusal, useConfirm } from '../confirm';

interface ChannelForm {
  name: string;
  type: 'HTTP' | 'SCRIPT';
  method: string;
  urlTemplate: string;
  headersTemplate: string;
  bodyTemplate: string;
  command: string;
  timeoutSeconds: number;
  messageTemplate: string;
  rateLimitPerMinute: number;
  maxAttempts: number;
}

/** Alert channels (HTTP and script), with a test notification that shows the answer. */
export default function Channels() {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [form] = Form.useForm<ChannelForm>();
  const [editing, setEditing] = useState<AlarmChannel | 'new' | null>(null);
  const [tested, setTested] = useState<{ channel: string; result: ChannelTestResult } | null>(null);
  const channels = useQuery({ queryKey: ['alarm-channels'], queryFn: () => get<Page<AlarmChannel>>('/api/v2/alarm/channels?size=200') });
  const refresh = () => client.invalidateQueries({ queryKey: ['alarm-channels'] });
  const type = Form.useWatch('type', form);
  const save = useMutation({
    mutationFn: (v: ChannelForm) => {
      const config =
        v.type === 'HTTP'
          ? { method: v.method, urlTemplate: v.urlTemplate, headersTemplate: v.headersTemplate ?? '', bodyTemplate: v.bodyTemplate ?? '', timeoutSeconds: v.timeoutSeconds }
          : { command: v.command.trim().split(/\s+/), timeoutSeconds: v.timeoutSeconds };
      const body = { name: v.name, config, messageTemplate: v.messageTemplate ?? '', rateLimitPerMinute: v.rateLimitPerMinute, maxAttempts: v.maxAttempts };
      return editing === 'new' ? post('/api/v2/alarm/channels', { ...body, type: v.type }) : put(`/api/v2/alarm/channels/${(editing as AlarmChannel).id}`, body);
    },
    onSuccess: async () => {
      await refresh();
      setEditing(null);
      message.success(t('common.saved'));
    },
    onError: (e) =>
      showRefusal(
        (fields) => form.setFields(fields.map((f) => ({ ...f, name: (f.name.startsWith('config.') ? f.name.slice(7) : f.name) as keyof ChannelForm }))),
        e,
        (m) => message.error(m),
      ),
  });
  const test = useMutation({
    mutationFn: (c: AlarmChannel) => post<ChannelTestResult>(`/api/v2/alarm/channels/${c.id}/test`).then((result) => ({ channel: c.name, result })),
    onSuccess: setTested,
    onError: (e: Error) => message.error(e.message),
  });
  const open = (c: AlarmChannel | 'new') => {
    setEditing(c);
    form.resetFields();
    if (c === 'new') {
      form.setFieldsValue({ type: 'HTTP', method: 'POST', timeoutSeconds: 10, rateLimitPerMinute: 60, maxAttempts: 3, headersTemplate: 'Content-Type: application/json' });
    } else {
      const config = c.config as Record<string, unknown>;
      form.setFieldsValue({
        name: c.name,
        type: c.type as ChannelForm['type'],
        method: (config.method as string) ?? 'POST',
        urlTemplate: config.urlTemplate as string,
        headersTemplate: config.headersTemplate as string,
        bodyTemplate: config.bodyTemplate as string,
        command: ((config.command as string[]) ?? []).join(' '),
        timeoutSeconds: (config.timeoutSeconds as number) ?? 10,
        messageTemplate: c.messageTemplate,
        rateLimitPerMinute: c.rateLimitPerMinute,
        maxAttempts: c.maxAttempts,
      });
    }
  };
  // A script channel runs a program on the server: only an administrator sets one up.
  const mayScript = may('SYSTEM:*:UPDATE');
  const mayUpdate = may('ALARM:*:UPDATE');

  return (
    <>
      {may('ALARM:*:CREATE') && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => open('new')} data-testid="create-channel">
          {t('alert.createChannel')}
        </Button>
      )}
      <Table<AlarmChannel>
        rowKey="id"
        size="small"
        data-testid="channels"
        loading={channels.isLoading}
        dataSource={channels.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('alert.channelType'), dataIndex: 'type' },
          {
            title: t('alert.destination'),
            render: (_, c) => {
              const config = c.config as Record<string, unknown>;
              return c.type === 'HTTP' ? `${config.method ?? 'POST'} ${config.urlTemplate}` : ((config.command as string[]) ?? []).join(' ');
            },
          },
          { title: t('alert.rateLimit'), dataIndex: 'rateLimitPerMinute' },
          { title: t('alert.maxAttempts'), dataIndex: 'maxAttempts' },
          {
            title: '',
            render: (_, c) =>
              mayUpdate &&
              (c.type === 'HTTP' || mayScript) && (
                <Space size={0}>
                  <Button type="link" size="small" loading={test.isPending && test.variables?.id === c.id} onClick={() => test.mutate(c)} data-testid={`test-channel-${c.name}`}>
                    {t('alert.sendTest')}
                  </Button>
                  <Button type="link" size="small" onClick={() => open(c)}>
                    {t('parameter.edit')}
                  </Button>
                  {may('ALARM:*:DELETE') && (
                    <Button
                      type="link"
                      size="small"
                      danger
                      onClick={() => ask(t('alert.confirmDeleteChannel', { name: c.name }), () => del(`/api/v2/alarm/channels/${c.id}`).then(refresh), { danger: true })}
                    >
                      {t('common.delete')}
                    </Button>
                  )}
                </Space>
              ),
          },
        ]}
      />
      <Modal open={tested !== null} title={t('alert.testOf', { name: tested?.channel ?? '' })} footer={null} onCancel={() => setTested(null)}>
        {tested && (
          <Alert
            data-testid="test-result"
            type={tested.result.successful ? 'success' : 'error'}
            showIcon
            message={tested.result.successful ? t('alert.testDelivered') : t('alert.testFailed')}
            description={<Typography.Text code>{tested.result.response}</Typography.Text>}
          />
        )}
      </Modal>
      <Modal
        open={editing !== null}
        width={720}
        title={editing === 'new' ? t('alert.createChannel') : t('alert.editChannel')}
        okButtonProps={{ loading: save.isPending, id: 'channel-save' }}
        onCancel={() => setEditing(null)}
        onOk={() => void form.validateFields().then((v) => save.mutate(v))}
      >
        <Form form={form} layout="vertical">
          <Space wrap>
            <Form.Item name="name" label={t('common.name')} rules={[{ required: true, max: 128, message: t('login.required') }]}>
              <Input id="channel-name" style={{ width: 280 }} />
            </Form.Item>
            <Form.Item name="type" label={t('alert.channelType')}>
              <Select
                style={{ width: 120 }}
                disabled={editing !== 'new'}
                options={[{ value: 'HTTP', label: 'HTTP' }, ...(mayScript ? [{ value: 'SCRIPT', label: 'SCRIPT' }] : [])]}
              />
            </Form.Item>
          </Space>
          {type === 'SCRIPT' ? (
            <Form.Item name="command" label={t('alert.command')} extra={t('alert.commandHint')} rules={[{ required: true, pattern: /^\//, message: t('alert.commandRule') }]}>
              <Input />
            </Form.Item>
          ) : (
            <>
              <Space wrap>
                <Form.Item name="method" label={t('alert.method')}>
                  <Select style={{ width: 100 }} options={['POST', 'PUT', 'GET'].map((m) => ({ value: m, label: m }))} />
                </Form.Item>
                <Form.Item name="urlTemplate" label="URL" rules={[{ required: true, pattern: /^https?:\/\//, message: t('alert.urlRule') }]}>
                  <Input id="channel-url" style={{ width: 460 }} />
                </Form.Item>
              </Space>
              <Form.Item name="headersTemplate" label={t('alert.headers')}>
                <Input.TextArea rows={2} />
              </Form.Item>
              <Form.Item name="bodyTemplate" label={t('alert.body')} extra={t('alert.bodyHint')}>
                <Input.TextArea rows={3} />
              </Form.Item>
            </>
          )}
          <Form.Item name="messageTemplate" label={t('alert.messageTemplate')} extra={t('alert.templateHint')}>
            <Input.TextArea rows={3} placeholder="[${alarm_level}] ${alarm_summary}" />
          </Form.Item>
          <Space wrap>
            <Form.Item name="timeoutSeconds" label={t('alert.timeout')} rules={[{ type: 'integer', min: 1, max: 60, message: '1 - 60' }]}>
              <InputNumber style={{ width: 100 }} />
            </Form.Item>
            <Form.Item name="rateLimitPerMinute" label={t('alert.rateLimit')} rules={[{ type: 'integer', min: 0, max: 10000, message: '0 - 10000' }]}>
              <InputNumber style={{ width: 120 }} />
            </Form.Item>
            <Form.Item name="maxAttempts" label={t('alert.maxAttempts')} rules={[{ type: 'integer', min: 1, max: 20, message: '1 - 20' }]}>
              <InputNumber style={{ width: 100 }} />
            </Form.Item>
          </Space>
        </Form>
      </Modal>
    </>
  );
}
