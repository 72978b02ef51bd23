import { App, Button, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post, put, query } from '../../api/client';
import type { Aggregation, AlarmRule, AlarmScope, AppType, Comparator, Page } from '../../api/types';
import { useT } from '../../i18n';
import { useSession } from '../../session';
import { showRefusal, useConfirm } from '../confirm';
import { usePaging } from '../paging';
import { LEVELS, Level } from '../status';

const SCOPES: Record<AlarmScope, true> = { ObCluster: true, ObTenant: true, ObServer: true, Host: true, Service: true };
const APP_TYPES: Record<AppType, true> = { OB: true, OCP: true };
const COMPARATORS: Record<Comparator, true> = { '>': true, '>=': true, '<': true, '<=': true, '==': true, '!=': true };
const AGGREGATIONS: Record<Aggregation, true> = { max: true, min: true, avg: true, sum: true };
const options = (record: object) => Object.keys(record).map((v) => ({ value: v, label: v }));

interface ItemForm {
  name: string;
  alarmName: string;
  appType: AppType;
  scope: AlarmScope;
  level: number;
  metric: string;
  aggregation: Aggregation;
  comparator: Comparator;
  threshold: number;
  durationSeconds: number;
  evaluationIntervalSeconds: number;
  clearSeconds: number;
  summaryTemplate: string;
  descriptionTemplate: string;
  enabled: boolean;
}

/** Alert items, built-in and own: thresholds, duration, level, templates, on or off. */
export default function Items() {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const paging = usePaging(20);
  const [form] = Form.useForm<ItemForm>();
  const [editing, setEditing] = useState<AlarmRule | 'new' | null>(null);
  const rules = useQuery({
    queryKey: ['alarm-rules', paging.params],
    queryFn: () => get<Page<AlarmRule>>(`/api/v2/alarm/rules${query(paging.params)}`),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ['alarm-rules'] });
  const save = useMutation({
    mutationFn: (v: ItemForm) => {
      const expression = { metric: v.metric, aggregation: v.aggregation, comparator: v.comparator, threshold: v.threshold };
      const common = {
        alarmName: v.alarmName,
        level: v.level,
        durationSeconds: v.durationSeconds,
        evaluationIntervalSeconds: v.evaluationIntervalSeconds,
        clearSeconds: v.clearSeconds,
        summaryTemplate: v.summaryTemplate,
        descriptionTemplate: v.descriptionTemplate,
        enabled: v.enabled,
      };
      if (editing === 'new') {
        return post('/api/v2/alarm/rules', { ...common, name: v.name, appType: v.appType, scope: v.scope, expression });
      }
      const rule = editing as AlarmRule;
      // A built-in item keeps its expression: only its threshold changes.
      return put(`/api/v2/alarm/rules/${rule.id}`, rule.builtin ? { ...common, threshold: v.threshold } : { ...common, expression });
    },
    onSuccess: async () => {
      await refresh();
      setEditing(null);
      message.success(t('common.saved'));
    },
    onError: (e) =>
      showRefusal(
        (fields) => form.setFields(fields.map((f) => ({ ...f, name: (f.name === 'expression' ? 'threshold' : f.name) as keyof ItemForm }))),
        e,
        (m) => message.error(m),
      ),
  });
  const toggle = useMutation({
    mutationFn: (r: AlarmRule) => put(`/api/v2/alarm/rules/${r.id}`, { enabled: !r.enabled }),
    onSuccess: refresh,
    onError: (e: Error) => message.error(e.message),
  });
  const open = (rule: AlarmRule | 'new') => {
    setEditing(rule);
    form.resetFields();
    if (rule === 'new') {
      form.setFieldsValue({
        appType: 'OB',
        scope: 'ObServer',
        level: 3,
        aggregation: 'max',
        comparator: '>',
        durationSeconds: 60,
        evaluationIntervalSeconds: 60,
        clearSeconds: 120,
        summaryTemplate: '${alarm_target} ${alarm_name}',
        descriptionTemplate: '${alarm_name}: ${value}',
        enabled: true,
      });
    } else {
      form.setFieldsValue({
        ...rule,
        appType: rule.appType,
        scope: rule.scope,
        metric: rule.expression?.metric,
        aggregation: rule.expression?.aggregation,
        comparator: rule.expression?.comparator,
        threshold: rule.expression?.threshold,
      });
    }
  };
  const mayUpdate = may('ALARM:*:UPDATE');
  const builtin = editing !== null && editing !== 'new' && editing.builtin;

  return (
    <>
      {may('ALARM:*:CREATE') && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => open('new')}>
          {t('alert.createItem')}
        </Button>
      )}
      <Table<AlarmRule>
        rowKey="id"
        size="small"
        data-testid="alarm-items"
        loading={rules.isLoading}
        dataSource={rules.data?.contents ?? []}
        pagination={paging.pagination(rules.data?.page.totalElements)}
        columns={[
          { title: t('alert.item'), dataIndex: 'name', render: (n: string, r) => <span title={r.description}>{n}</span> },
          { title: t('alert.summary'), dataIndex: 'alarmName' },
          { title: t('alert.level'), dataIndex: 'level', render: (l: number) => <Level value={l} /> },
          {
            title: t('alert.condition'),
            render: (_, r) => r.expression && `${r.expression.aggregation}(${r.expression.metric}) ${r.expression.comparator} ${r.expression.threshold}`,
          },
          { title: t('alert.duration'), dataIndex: 'durationSeconds', render: (s: number) => `${s} s` },
          { title: '', dataIndex: 'builtin', render: (b: boolean) => (b ? <Tag>{t('alert.builtin')}</Tag> : <Tag color="blue">{t('alert.own')}</Tag>) },
          {
            title: t('alert.enabled'),
            dataIndex: 'enabled',
            render: (on: boolean, r) => <Switch size="small" checked={on} disabled={!mayUpdate} onChange={() => toggle.mutate(r)} />,
          },
          {
            title: '',
            render: (_, r) =>
              mayUpdate && (
                <Space size={0}>
                  <Button type="link" size="small" onClick={() => open(r)} data-testid={`edit-item-${r.name}`}>
                    {t('parameter.edit')}
                  </Button>
                  {!r.builtin && may('ALARM:*:DELETE') && (
                    <Button
                      type="link"
                      size="small"
                      danger
                      onClick={() => ask(t('alert.confirmDeleteItem', { name: r.name }), () => del(`/api/v2/alarm/rules/${r.id}`).then(refresh), { danger: true })}
                    >
                      {t('common.delete')}
                    </Button>
                  )}
                </Space>
              ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        width={720}
        title={editing === 'new' ? t('alert.createItem') : t('alert.editItem')}
        okButtonProps={{ loading: save.isPending, id: 'item-save' }}
        onCancel={() => setEditing(null)}
        onOk={() => void form.validateFields().then((v) => save.mutate(v))}
      >
        <Form form={form} layout="vertical">
          {editing === 'new' && (
            <Space wrap>
              <Form.Item name="name" label={t('alert.item')} rules={[{ required: true, pattern: /^[a-z][a-z0-9_]*$/, message: t('alert.itemRule') }]}>
                <Input style={{ width: 240 }} />
              </Form.Item>
              <Form.Item name="appType" label={t('alert.appType')}>
                <Select style={{ width: 100 }} options={options(APP_TYPES)} />
              </Form.Item>
              <Form.Item name="scope" label={t('alert.scope')}>
                <Select style={{ width: 140 }} options={options(SCOPES)} />
              </Form.Item>
            </Space>
          )}
          <Form.Item name="alarmName" label={t('alert.summary')} rules={[{ required: true, message: t('login.required') }]}>
            <Input />
          </Form.Item>
          <Space wrap>
            <Form.Item name="aggregation" label={t('alert.aggregation')}>
              <Select style={{ width: 100 }} disabled={builtin} options={options(AGGREGATIONS)} />
            </Form.Item>
            <Form.Item name="metric" label={t('alert.metric')} rules={[{ required: !builtin, pattern: /^[A-Za-z0-9_]+$/, message: t('alert.metricRule') }]}>
              <Input style={{ width: 260 }} disabled={builtin} />
            </Form.Item>
            <Form.Item name="comparator" label={t('alert.comparator')}>
              <Select style={{ width: 80 }} disabled={builtin} options={options(COMPARATORS)} />
            </Form.Item>
            <Form.Item name="threshold" label={t('alert.threshold')} rules={[{ required: true, type: 'number', message: t('parameter.number') }]}>
              <InputNumber id="item-threshold" style={{ width: 140 }} />
            </Form.Item>
          </Space>
          <Space wrap>
            <Form.Item name="level" label={t('alert.level')}>
              <Select style={{ width: 130 }} options={Object.entries(LEVELS).map(([v, label]) => ({ value: Number(v), label }))} />
            </Form.Item>
            <Form.Item name="durationSeconds" label={t('alert.durationSeconds')} rules={[{ type: 'integer', min: 0, max: 86400, message: '0 - 86400' }]}>
              <InputNumber style={{ width: 120 }} />
            </Form.Item>
            <Form.Item name="evaluationIntervalSeconds" label={t('alert.intervalSeconds')} rules={[{ type: 'integer', min: 1, max: 86400, message: '1 - 86400' }]}>
              <InputNumber style={{ width: 120 }} />
            </Form.Item>
            <Form.Item name="clearSeconds" label={t('alert.clearSeconds')}>
              <InputNumber style={{ width: 120 }} />
            </Form.Item>
            <Form.Item name="enabled" label={t('alert.enabled')} valuePropName="checked">
              <Switch />
            </Form.Item>
          </Space>
          <Form.Item name="summaryTemplate" label={t('alert.summaryTemplate')} rules={[{ required: true, message: t('login.required') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="descriptionTemplate" label={t('alert.descriptionTemplate')} extra={t('alert.templateHint')}>
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
