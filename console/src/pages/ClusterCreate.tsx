import { Alert, App, Button, Card, Form, Input, InputNumber, Progress, Select, Space, Steps, Typography } from '@oceanbase/design';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';

import { ApiError, get, post, query } from '../api/client';
import type { Cluster, Host, Page, SoftwarePackage, TaskInstance } from '../api/types';
import { useT, type MessageKey } from '../i18n';

/**
 * The startup parameters the platform gives seekdb unless told otherwise (the server's
 * `SEEKDB_DEFAULTS` in cluster/deploy.rs), shown so the operator sees and can change them.
 */
const STARTUP_DEFAULTS = [
  { name: 'memory_budget', value: '1G' },
  { name: 'log_disk_size', value: '2G' },
  { name: 'datafile_size', value: '64M' },
];

interface Values {
  name: string;
  rpmName?: string;
  hostId: number;
  zone: string;
  sqlPort: number;
  homePath?: string;
  username: string;
  password: string;
  confirm: string;
  parameters: { name: string; value: string }[];
}

/** 0 to 4: length and the kinds of character a password mixes. */
export function passwordStrength(password: string): number {
  if (password.length < 8) {
    return password.length === 0 ? 0 : 1;
  }
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
  return Math.min(4, (password.length >= 12 ? 2 : 1) + Math.max(0, kinds - 2));
}

const STRENGTH: MessageKey[] = ['cluster.strength0', 'cluster.strength1', 'cluster.strength2', 'cluster.strength3', 'cluster.strength4'];
const STRENGTH_COLOR = ['#d9d9d9', '#f5222d', '#fa8c16', '#52c41a', '#389e0d'];

/** Which step holds the field a refusal names (`zones[0].servers[0]` is the host). */
const FIELD_OF: [RegExp, keyof Values, number][] = [
  [/^name/, 'name', 0],
  [/^rpmName/, 'rpmName', 0],
  [/^(zones|hostId)/, 'hostId', 1],
  [/^sqlPort/, 'sqlPort', 1],
  [/^homePath/, 'homePath', 1],
  [/^(username)/, 'username', 2],
  [/^password/, 'password', 2],
  [/^parameters/, 'parameters', 2],
];

/**
 * A new cluster, as a wizard: package, host and ports, root password and startup parameters,
 * then the request it will send. With `?takeover` it registers a server that already runs.
 */
export default function ClusterCreate() {
  const t = useT();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const takeover = new URLSearchParams(useLocation().search).has('takeover');
  const [form] = Form.useForm<Values>();
  const [step, setStep] = useState(0);
  const packages = useQuery({
    queryKey: ['packages', 'servers'],
    queryFn: () =>
      get<Page<SoftwarePackage>>(`/api/v2/software-packages${query({ type: 'OB_SERVER_INSTALL_PACKAGE', size: 200 })}`),
  });
  const hosts = useQuery({
    queryKey: ['hosts', 'usable'],
    queryFn: () => get<Page<Host>>(`/api/v2/compute/hosts${query({ status: 'AVAILABLE,ONLINE', size: 500 })}`),
  });
  const clusters = useQuery({
    queryKey: ['clusters', 'ports'],
    queryFn: () => get<Page<Cluster>>(`/api/v2/ob/clusters${query({ size: 500 })}`),
  });
  const taken = new Set(
    (clusters.data?.contents ?? []).flatMap((c) => c.zones.flatMap((z) => z.servers.map((s) => `${s.hostId}:${s.sqlPort}`))),
  );

  const request = (v: Values) =>
    takeover
      ? {
          name: v.name,
          hostId: v.hostId,
          sqlPort: v.sqlPort,
          username: v.username,
          password: v.password,
          homePath: v.homePath || null,
          rpmName: v.rpmName || null,
        }
      : {
          name: v.name,
          type: 'PRIMARY',
          rpmName: v.rpmName,
          password: v.password,
          sqlPort: v.sqlPort,
          homePath: v.homePath || null,
          zones: [{ name: v.zone, servers: [v.hostId] }],
          parameters: v.parameters.filter((p) => p.name),
        };
  const submit = useMutation({
    mutationFn: () => {
      const values = form.getFieldsValue(true) as Values;
      return post<TaskInstance>(takeover ? '/api/v2/ob/clusters/takeover' : '/api/v2/ob/clusters', request(values));
    },
    onSuccess: (task) => navigate(`/tasks/${task.id}`),
    onError: (e: Error) => {
      // The refusal is shown at its field, on that field's step.
      const sub = e instanceof ApiError ? e.subErrors[0] : undefined;
      const target = sub && FIELD_OF.find(([re]) => re.test(sub.field));
      if (sub && target) {
        setStep(target[2]);
        setTimeout(() => form.setFields([{ name: target[1], errors: [sub.message] }]));
      } else {
        message.error(e.message);
      }
    },
  });

  const steps: { title: string; fields: (keyof Values)[] }[] = [
    { title: t('cluster.stepBasics'), fields: ['name', 'rpmName'] },
    { title: t('cluster.stepHost'), fields: ['hostId', 'zone', 'sqlPort', 'homePath'] },
    { title: t(takeover ? 'cluster.stepCredentials' : 'cluster.stepPassword'), fields: ['username', 'password', 'confirm', 'parameters'] },
    { title: t('cluster.stepReview'), fields: [] },
  ];
  const next = async () => {
    await form.validateFields(steps[step].fields);
    setStep(step + 1);
  };
  const password = Form.useWatch('password', form) ?? '';
  const strength = passwordStrength(password);
  const shown = (index: number) => ({ display: step === index ? undefined : 'none' });

  return (
    <Card title={t(takeover ? 'cluster.takeOver' : 'cluster.create')} data-testid="cluster-wizard">
      <Steps current={step} items={steps.map((s) => ({ title: s.title }))} style={{ marginBottom: 24 }} />
      <Form
        form={form}
        layout="vertical"
        style={{ maxWidth: 640 }}
        initialValues={{ zone: 'zone1', sqlPort: 2881, username: 'root', parameters: STARTUP_DEFAULTS }}
        onValuesChange={() => submit.reset()}
      >
        <div style={shown(0)}>
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true, pattern: /^[A-Za-z][A-Za-z0-9_-]{0,63}$/, message: t('cluster.nameRule') }]}>
            <Input id="cluster-name" />
          </Form.Item>
          <Form.Item
            name="rpmName"
            label={t('cluster.package')}
            extra={packages.data?.contents.length === 0 ? t('cluster.noPackage') : undefined}
            rules={takeover ? [] : [{ required: true, message: t('login.required') }]}
          >
            <Select
              id="cluster-package"
              allowClear={takeover}
              loading={packages.isLoading}
              options={(packages.data?.contents ?? []).map((p) => ({
                value: p.fileName,
                label: `${p.fileName} (${p.version})`,
              }))}
            />
          </Form.Item>
        </div>
        <div style={shown(1)}>
          <Form.Item name="hostId" label={t('cluster.host')} rules={[{ required: true, message: t('login.required') }]}>
            <Select
              id="cluster-host"
              loading={hosts.isLoading}
              options={(hosts.data?.contents ?? []).map((h) => ({ value: h.id, label: `${h.innerIpAddress} (${h.name})` }))}
            />
          </Form.Item>
          {!takeover && (
            <Form.Item name="zone" label={t('cluster.zone')} rules={[{ required: true, pattern: /^[A-Za-z0-9_]{1,64}$/, message: t('cluster.zoneRule') }]}>
              <Input />
            </Form.Item>
          )}
          <Form.Item
            name="sqlPort"
            label={t('cluster.sqlPort')}
            dependencies={['hostId']}
            rules={[
              { required: true, type: 'integer', min: 1024, max: 65535, message: t('cluster.portRule') },
              ({ getFieldValue }) => ({
                validator: (_, port) =>
                  !takeover && taken.has(`${getFieldValue('hostId')}:${port}`)
                    ? Promise.reject(new Error(t('cluster.portTaken')))
                    : Promise.resolve(),
              }),
            ]}
          >
            <InputNumber id="cluster-port" style={{ width: 160 }} />
          </Form.Item>
          <Form.Item name="homePath" label={t('cluster.homePath')} extra={t('cluster.homePathHint')}>
            <Input placeholder={takeover ? '' : 'ob/NAME'} />
          </Form.Item>
        </div>
        <div style={shown(2)}>
          {takeover && (
            <Form.Item name="username" label={t('login.username')} rules={[{ required: true, message: t('login.required') }]}>
              <Input />
            </Form.Item>
          )}
          <Form.Item
            name="password"
            label={t('cluster.rootPassword')}
            rules={[{ required: true, max: 128, message: t('cluster.passwordRule') }]}
            extra={
              !takeover && (
                <Space data-testid="password-strength">
                  <Progress steps={4} percent={strength * 25} showInfo={false} strokeColor={STRENGTH_COLOR[strength]} />
                  {t(STRENGTH[strength])}
                </Space>
              )
            }
          >
            <Input.Password id="cluster-password" autoComplete="new-password" />
          </Form.Item>
          {!takeover && (
            <>
              <Form.Item
                name="confirm"
                label={t('cluster.confirmPassword')}
                dependencies={['password']}
                rules={[
                  ({ getFieldValue }) => ({
                    validator: (_, v) =>
                      v === getFieldValue('password') ? Promise.resolve() : Promise.reject(new Error(t('cluster.passwordsDiffer'))),
                  }),
                ]}
              >
                <Input.Password id="cluster-confirm" autoComplete="new-password" />
              </Form.Item>
              <Typography.Text strong>{t('cluster.startupParameters')}</Typography.Text>
              <Form.List name="parameters">
                {(fields, { add, remove }) => (
                  <div style={{ marginTop: 8 }}>
                    {fields.map((field) => (
                      <Space key={field.key} align="baseline">
                        <Form.Item name={[field.name, 'name']} rules={[{ required: true, pattern: /^[a-z_][a-z0-9_]*$/, message: t('cluster.parameterRule') }]}>
                          <Input placeholder={t('common.name')} style={{ width: 260 }} />
                        </Form.Item>
                        <Form.Item name={[field.name, 'value']} rules={[{ required: true, message: t('login.required') }]}>
                          <Input placeholder={t('cluster.value')} style={{ width: 200 }} />
                        </Form.Item>
                        <Button type="link" danger onClick={() => remove(field.name)}>
                          {t('common.delete')}
                        </Button>
                      </Space>
                    ))}
                    <Button onClick={() => add({ name: '', value: '' })}>{t('cluster.addParameter')}</Button>
                  </div>
                )}
              </Form.List>
            </>
          )}
        </div>
        {step === 3 && (
          <>
            <Typography.Paragraph>{t('cluster.reviewHint')}</Typography.Paragraph>
            <pre data-testid="cluster-request" style={{ background: '#f5f7fa', padding: 12, borderRadius: 4 }}>
              {JSON.stringify({ ...request(form.getFieldsValue(true) as Values), password: '********' }, null, 2)}
            </pre>
          </>
        )}
        {submit.error && !(submit.error instanceof ApiError && submit.error.subErrors.length > 0) && (
          <Alert type="error" showIcon style={{ marginBottom: 16 }} message={submit.error.message} />
        )}
        <Space>
          {step > 0 && <Button onClick={() => setStep(step - 1)}>{t('cluster.previous')}</Button>}
          {step < 3 && (
            <Button type="primary" onClick={() => void next()} data-testid="wizard-next">
              {t('cluster.next')}
            </Button>
          )}
          {step === 3 && (
            <Button type="primary" loading={submit.isPending} onClick={() => submit.mutate()} data-testid="wizard-submit">
              {t(takeover ? 'cluster.takeOver' : 'cluster.deploy')}
            </Button>
          )}
        </Space>
      </Form>
    </Card>
  );
}
