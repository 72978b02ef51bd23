import { Alert, App, Button, Card, Checkbox, Descriptions, Flex, Form, Input, Modal, Space, Tabs, Typography } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';

import { del, get, post } from '../api/client';
import type { Cluster as ClusterView, TaskInstance, Tenant } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { showRefusal, useConfirm } from './confirm';
import { useTaskAction } from './taskAction';
import { Status, When } from './status';
import { TaskList } from './Tasks';

const ClusterParameters = lazy(() => import('./ClusterParameters'));
const ClusterDatabases = lazy(() => import('./ClusterDatabases'));
const ClusterTenant = lazy(() => import('./ClusterTenant'));
const ClusterDbUsers = lazy(() => import('./ClusterDbUsers'));
const ClusterDbRoles = lazy(() => import('./ClusterDbRoles'));
const ClusterCompaction = lazy(() => import('./ClusterCompaction'));
const ClusterPerformance = lazy(() => import('./ClusterPerformance'));

type Action = 'start' | 'stop' | 'restart';
/** Each operation, and the server statuses it may start from (as the server checks them). */
const ACTIONS = [
  { action: 'start', label: 'cluster.start', confirm: 'cluster.confirmStart', from: ['STOPPED', 'UNAVAILABLE'] },
  { action: 'stop', label: 'cluster.stop', confirm: 'cluster.confirmStop', from: ['RUNNING', 'UNAVAILABLE'] },
  { action: 'restart', label: 'cluster.restart', confirm: 'cluster.confirmRestart', from: ['RUNNING', 'UNAVAILABLE'] },
] as const;
type Actions = (what: string, path: string, testId: string, servers: Server[]) => ReactNode;
type Server = ClusterView['zones'][number]['servers'][number];

/** A cluster: its facts and connection, its topology with every operation, parameters, tasks. */
export default function Cluster() {
  const t = useT();
  const { id } = useParams();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const [deleting, setDeleting] = useState(false);
  const [changingPassword, setChangingPassword] = useState(false);
  // What a task changes shows within 5 s; the server refreshes the status itself.
  const cluster = useQuery({
    queryKey: ['cluster', id],
    queryFn: () => get<ClusterView>(`/api/v2/ob/clusters/${id}`),
    refetchInterval: 5000,
  });
  // seekdb has one tenant, sys: its databases, users and roles are the cluster's.
  const tenants = useQuery({
    queryKey: ['cluster', id, 'tenants'],
    queryFn: () => get<{ contents: Tenant[] }>(`/api/v2/ob/clusters/${id}/tenants`),
    enabled: may('CLUSTER:*:TENANT:*:READ'),
  });
  const tenant = tenants.data?.contents[0];
  const act = useTaskAction((request: () => Promise<TaskInstance>) => request(), ['cluster', id]);
  const base = `/api/v2/ob/clusters/${id}`;
  const operate = (title: string, path: string, action: Action) =>
    ask(title, () => act.mutateAsync(() => post<TaskInstance>(path)), { danger: action === 'stop' });
  const mayUpdate = may('CLUSTER:*:UPDATE');

  if (cluster.error) {
    return <Alert type="error" showIcon message={t('common.loadFailed', { message: cluster.error.message })} />;
  }
  const c = cluster.data;
  const servers = c?.zones.flatMap((z) => z.servers) ?? [];
  const first = servers[0];
  // An operation is offered when every server it touches may go through it.
  const actions: Actions = (what, path, testId, touched) =>
    mayUpdate && (
      <Space size={0}>
        {ACTIONS.map(({ action, label, confirm, from }) => (
          <Button
            key={action}
            type="link"
            size="small"
            disabled={touched.length === 0 || !touched.every((s) => (from as readonly string[]).includes(s.status))}
            danger={action === 'stop'}
            data-testid={`${testId}-${action}`}
            onClick={() => operate(t(confirm, { what }), `${path}/${action}`, action)}
          >
            {t(label)}
          </Button>
        ))}
      </Space>
    );

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card
        loading={cluster.isLoading}
        title={c ? c.name : ''}
        extra={
          <Space>
            {mayUpdate && (
              <Button onClick={() => setChangingPassword(true)} data-testid="change-root-password">
                {t('cluster.changePassword')}
              </Button>
            )}
            {may('CLUSTER:*:DELETE') && (
              <Button danger onClick={() => setDeleting(true)} data-testid="delete-cluster">
                {t('common.delete')}
              </Button>
            )}
          </Space>
        }
      >
        {c && (
          <Descriptions column={3} size="small" data-testid="cluster-facts">
            <Descriptions.Item label={t('common.status')}>
              <span data-testid="cluster-status">
                <Status resource value={c.status} />
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('cluster.version')}>{c.obVersion}</Descriptions.Item>
            <Descriptions.Item label={t('cluster.package')}>
              <span data-testid="cluster-package">{c.rpmName ?? '-'}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('cluster.kind')}>
              {c.kind} / {c.type}
            </Descriptions.Item>
            {(c.primaryCluster || c.standbyClusters.length > 0) && (
              <Descriptions.Item label={t('cluster.pair')} span={3}>
                <span data-testid="cluster-pair">
                  {c.primaryCluster ? (
                    <>
                      {t('cluster.standbyOf')}{' '}
                      <Link to={`/clusters/${c.primaryCluster.id}`}>{c.primaryCluster.name}</Link>
                      {' · '}
                      {c.syncStatus ?? '-'}
                      {c.delayTime != null && ` · ${t('cluster.delay')} ${c.delayTime.toFixed(2)} s`}
                    </>
                  ) : (
                    <>
                      {t('cluster.standbys')}{' '}
                      {c.standbyClusters.map((s, i) => (
                        <span key={s.id}>
                          {i > 0 && ', '}
                          <Link to={`/clusters/${s.id}`}>{s.name}</Link> ({s.syncStatus ?? '-'})
                        </span>
                      ))}
                    </>
                  )}
                </span>
              </Descriptions.Item>
            )}
            <Descriptions.Item label={t('cluster.started')}>
              <When value={first?.startTime} />
            </Descriptions.Item>
            <Descriptions.Item label={t('cluster.rootUser')}>root</Descriptions.Item>
            <Descriptions.Item label={t('common.created')}>
              <When value={c.createTime} /> ({c.creator})
            </Descriptions.Item>
            {first && (
              <Descriptions.Item label={t('cluster.connect')} span={3}>
                <Typography.Text copyable code data-testid="connection-string">
                  {`mysql -h${first.ip} -P${first.sqlPort} -uroot -p`}
                </Typography.Text>
              </Descriptions.Item>
            )}
          </Descriptions>
        )}
      </Card>
      {c && (
        <Card>
          <Tabs
            destroyInactiveTabPane
            items={[
              {
                key: 'topology',
                label: t('cluster.topology'),
                children: (
                  <Topology cluster={c} base={base} actions={actions} />
                ),
              },
              {
                key: 'parameters',
                label: t('cluster.parameters'),
                children: lazyTab(<ClusterParameters path={`${base}/parameters`} />),
              },
              ...(tenant
                ? [
                    { key: 'tenant', label: t('cluster.tenant'), children: lazyTab(<ClusterTenant base={`${base}/tenants/${tenant.id}`} />) },
                    { key: 'databases', label: t('cluster.databases'), children: lazyTab(<ClusterDatabases base={`${base}/tenants/${tenant.id}`} />) },
                    { key: 'users', label: t('cluster.users'), children: lazyTab(<ClusterDbUsers base={`${base}/tenants/${tenant.id}`} rootUser="root" />) },
                    { key: 'roles', label: t('cluster.roles'), children: lazyTab(<ClusterDbRoles base={`${base}/tenants/${tenant.id}`} />) },
                  ]
                : []),
              { key: 'performance', label: t('cluster.performance'), children: lazyTab(<ClusterPerformance cluster={c} />) },
              { key: 'compaction', label: t('cluster.compaction'), children: lazyTab(<ClusterCompaction clusterId={c.id} />) },
              { key: 'tasks', label: t('nav.tasks'), children: <TaskList cluster={c.id} /> },
            ]}
          />
        </Card>
      )}
      {c && (
        <DeleteCluster
          open={deleting}
          name={c.name}
          onClose={() => setDeleting(false)}
          onDelete={(keepData) => act.mutateAsync(() => del<TaskInstance>(`${base}?keepData=${keepData}`))}
        />
      )}
      <ChangeRootPassword
        open={changingPassword}
        onClose={() => setChangingPassword(false)}
        onChange={async (newPassword) => {
          await post(`${base}/changePassword`, { newPassword });
          message.success(t('cluster.passwordChanged'));
        }}
      />
    </Space>
  );
}

/** A tab whose page loads when first shown. */
function lazyTab(page: ReactNode) {
  return <Suspense fallback={null}>{page}</Suspense>;
}

/** The cluster, its zones and their servers, each with its status, host and operations. */
function Topology({
  cluster,
  base,
  actions,
}: {
  cluster: ClusterView;
  base: string;
  actions: Actions;
}) {
  const t = useT();
  const line = { borderLeft: '2px solid #d9d9d9', marginLeft: 12, paddingLeft: 20 };
  return (
    <div data-testid="topology">
      <Flex align="center" gap={16}>
        <Typography.Text strong>
          {t('cluster.cluster')} {cluster.name}
        </Typography.Text>
        <Status resource value={cluster.status} />
        {actions(cluster.name, base, 'cluster', cluster.zones.flatMap((z) => z.servers))}
      </Flex>
      <div style={line}>
        {cluster.zones.map((zone) => (
          <div key={zone.name} style={{ paddingTop: 12 }} data-testid={`zone-${zone.name}`}>
            <Flex align="center" gap={16}>
              <Typography.Text strong>
                {t('cluster.zone')} {zone.name}
              </Typography.Text>
              <Status resource value={zone.status} />
              <Typography.Text type="secondary">{[zone.regionName, zone.idcName].filter(Boolean).join(' / ')}</Typography.Text>
              {actions(zone.name, `${base}/zones/${encodeURIComponent(zone.name)}`, `zone-${zone.name}`, zone.servers)}
            </Flex>
            <Flex wrap gap={12} style={{ ...line, paddingTop: 12 }}>
              {zone.servers.map((server: Server) => (
                <Card key={server.id} size="small" style={{ width: 300 }} data-testid={`server-${server.id}`}>
                  <Flex justify="space-between">
                    <Typography.Text strong>
                      {server.ip}:{server.sqlPort}
                    </Typography.Text>
                    <Status resource value={server.status} />
                  </Flex>
                  <Typography.Paragraph type="secondary" style={{ margin: '4px 0' }}>
                    <Link to={`/hosts/${server.hostId}`}>{t('cluster.hostNumber', { id: server.hostId })}</Link> · {server.version}
                    {server.withRootserver && ' · RS'}
                    <br />
                    {server.homePath}
                  </Typography.Paragraph>
                  {actions(`${server.ip}:${server.sqlPort}`, `${base}/servers/${server.id}`, `server-${server.id}`, [server])}
                </Card>
              ))}
            </Flex>
          </div>
        ))}
      </div>
    </div>
  );
}

/** Delete, confirmed by typing the cluster's name, with the choice to keep the data. */
function DeleteCluster({
  open,
  name,
  onClose,
  onDelete,
}: {
  open: boolean;
  name: string;
  onClose: () => void;
  onDelete: (keepData: boolean) => Promise<unknown>;
}) {
  const t = useT();
  const [typed, setTyped] = useState('');
  const [keepData, setKeepData] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <Modal
      open={open}
      title={t('cluster.deleteTitle', { name })}
      okText={t('common.delete')}
      okButtonProps={{ danger: true, disabled: typed !== name, loading: busy }}
      onCancel={onClose}
      onOk={async () => {
        setBusy(true);
        try {
          await onDelete(keepData);
        } finally {
          setBusy(false);
        }
      }}
    >
      <Typography.Paragraph>{t('cluster.deleteHint', { name })}</Typography.Paragraph>
      <Input value={typed} onChange={(e) => setTyped(e.target.value)} data-testid="delete-name" />
      <Checkbox checked={keepData} onChange={(e: { target: { checked: boolean } }) => setKeepData(e.target.checked)} style={{ marginTop: 12 }}>
        {t('cluster.keepData')}
      </Checkbox>
    </Modal>
  );
}

function ChangeRootPassword({
  open,
  onClose,
  onChange,
}: {
  open: boolean;
  onClose: () => void;
  onChange: (password: string) => Promise<void>;
}) {
  const t = useT();
  const [form] = Form.useForm<{ newPassword: string; confirm: string }>();
  const [busy, setBusy] = useState(false);
  return (
    <Modal
      open={open}
      title={t('cluster.changePassword')}
      okButtonProps={{ loading: busy }}
      onCancel={onClose}
      destroyOnClose
      onOk={async () => {
        const values = await form.validateFields();
        setBusy(true);
        try {
          await onChange(values.newPassword);
          form.resetFields();
          onClose();
        } catch (e) {
          showRefusal(
            (fields) => form.setFields(fields.map((f) => ({ ...f, name: 'newPassword' as const }))),
            e,
            (m) => form.setFields([{ name: 'newPassword', errors: [m] }]),
          );
        } finally {
          setBusy(false);
        }
      }}
    >
      <Form form={form} layout="vertical" preserve={false}>
        <Form.Item name="newPassword" label={t('cluster.rootPassword')} rules={[{ required: true, max: 128, message: t('cluster.passwordRule') }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('cluster.confirmPassword')}
          dependencies={['newPassword']}
          rules={[
            ({ getFieldValue }) => ({
              validator: (_, v) =>
                v === getFieldValue('newPassword') ? Promise.resolve() : Promise.reject(new Error(t('cluster.passwordsDiffer'))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
