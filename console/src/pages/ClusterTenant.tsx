import { Alert, App, Button, Card, Descriptions, Input, Space, Table, Typography } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';

import { ApiError, get, post } from '../api/client';
import type { TenantDetail } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { bytes } from './format';
import { When } from './status';

const ClusterParameters = lazy(() => import('./ClusterParameters'));

type Unit = TenantDetail['zones'][number]['units'][number];

/** The tenant at `base`: its settings, whitelist, units with their resources, and parameters. */
export default function ClusterTenant({ base }: { base: string }) {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [whitelist, setWhitelist] = useState<{ value: string; error: string | null } | null>(null);
  const detail = useQuery({ queryKey: ['tenant', base], queryFn: () => get<TenantDetail>(base) });
  const change = useMutation({
    mutationFn: (value: string) => post<{ whitelist: string; hint: string }>(`${base}/modifyWhitelist`, { whitelist: value }),
    onSuccess: async (answer) => {
      await client.invalidateQueries({ queryKey: ['tenant', base] });
      setWhitelist(null);
      message.success(`${t('tenant.whitelistChanged', { whitelist: answer.whitelist })} ${answer.hint}`);
    },
    onError: (e: Error) => {
      const sub = e instanceof ApiError ? e.subErrors[0] : undefined;
      setWhitelist((current) => current && { ...current, error: sub?.message ?? e.message });
    },
  });
  const d = detail.data;
  const units: Unit[] = d?.zones.flatMap((z) => z.units) ?? [];
  const size = (n: number | null | undefined) => (n == null ? '-' : bytes(n));
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle" data-testid="tenant-pane">
      {detail.error && <Alert type="error" showIcon message={t('common.loadFailed', { message: detail.error.message })} />}
      {d && (
        <Descriptions column={3} size="small" data-testid="tenant">
          <Descriptions.Item label={t('common.name')}>{d.name}</Descriptions.Item>
          <Descriptions.Item label={t('tenant.mode')}>{d.mode}</Descriptions.Item>
          <Descriptions.Item label={t('common.status')}>{d.status}</Descriptions.Item>
          <Descriptions.Item label={t('tenant.charset')}>
            <span data-testid="tenant-charset">{d.charset ?? '-'}</span> / {d.collation ?? '-'}
          </Descriptions.Item>
          <Descriptions.Item label={t('tenant.locality')}>{d.locality}</Descriptions.Item>
          <Descriptions.Item label={t('tenant.created')}>
            <When value={d.createTime} />
          </Descriptions.Item>
          <Descriptions.Item label={t('tenant.whitelist')} span={3}>
            {whitelist ? (
              <Space direction="vertical" size={2}>
                <Space>
                  <Input
                    autoFocus
                    size="small"
                    style={{ width: 320 }}
                    status={whitelist.error ? 'error' : undefined}
                    value={whitelist.value}
                    onChange={(e) => setWhitelist({ value: e.target.value, error: null })}
                    onPressEnter={() => change.mutate(whitelist.value)}
                    data-testid="whitelist-value"
                  />
                  <Button size="small" type="primary" loading={change.isPending} onClick={() => change.mutate(whitelist.value)} data-testid="whitelist-save">
                    {t('parameter.save')}
                  </Button>
                  <Button size="small" onClick={() => setWhitelist(null)}>
                    {t('common.cancel')}
                  </Button>
                </Space>
                {whitelist.error && <Typography.Text type="danger">{whitelist.error}</Typography.Text>}
              </Space>
            ) : (
              <Space>
                <span data-testid="tenant-whitelist">{d.whitelist ?? '-'}</span>
                {may('CLUSTER:*:TENANT:*:UPDATE') && d.whitelist != null && (
                  <Button type="link" size="small" data-testid="edit-whitelist" onClick={() => setWhitelist({ value: d.whitelist ?? '', error: null })}>
                    {t('parameter.edit')}
                  </Button>
                )}
              </Space>
            )}
          </Descriptions.Item>
        </Descriptions>
      )}
      <Card size="small" title={t('tenant.units')}>
        <Table<Unit>
          rowKey="id"
          size="small"
          pagination={false}
          data-testid="tenant-units"
          loading={detail.isLoading}
          dataSource={units}
          columns={[
            { title: t('tenant.server'), render: (_, u) => `${u.serverIp}:${u.serverPort}` },
            { title: t('tenant.zone'), dataIndex: 'zoneName' },
            { title: t('common.status'), dataIndex: 'status' },
            { title: t('tenant.cpu'), render: (_, u) => u.cpuCoreCount ?? '-' },
            { title: t('tenant.memory'), render: (_, u) => size(u.memorySize) },
            { title: t('tenant.logDisk'), render: (_, u) => `${size(u.logDiskInUse)} / ${size(u.logDiskSize)}` },
            { title: t('tenant.dataDisk'), render: (_, u) => `${size(u.dataDiskInUse)} / ${size(u.dataDiskSize)}` },
          ]}
        />
      </Card>
      <Card size="small" title={t('tenant.parameters')}>
        <Suspense fallback={null}>
          <ClusterParameters path={`${base}/parameters`} tenant />
        </Suspense>
      </Card>
    </Space>
  );
}
