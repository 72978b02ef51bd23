import { Alert, App, Button, Input, Space, Table, Tag, Tooltip, Typography } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { ApiError, get, put } from '../api/client';
import type { ClusterParameter, TenantParameter } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { useConfirm } from './confirm';

/** Byte sizes as OceanBase writes them: 64M, 2G, 1T (a bare number is bytes). */
const CAPACITY = /^\d+(\.\d+)?[KMGTP]?B?$/i;
const TIME = /^\d+(\.\d+)?(us|ms|s|m|h|d)?$/i;

/**
 * Checks a value against what the server reports of the parameter (`valueRange`): its type,
 * its bounds and its allowed values. An empty answer means the value may be sent; the server
 * has the last word.
 */
export function checkValue(p: ClusterParameter, value: string, t: ReturnType<typeof useT>): string | null {
  const range = p.valueRange;
  const type = range.type.toUpperCase();
  if (value.trim() === '') {
    return t('login.required');
  }
  if (range.allowedValues) {
    const allowed = range.allowedValues.split(',').map((v) => v.trim().toLowerCase());
    if (allowed.length > 0 && !allowed.includes(value.trim().toLowerCase())) {
      return t('parameter.oneOf', { values: range.allowedValues });
    }
  }
  if (type === 'BOOL' && !/^(true|false|on|off|1|0)$/i.test(value)) {
    return t('parameter.bool');
  }
  if ((type === 'INT' || type === 'DOUBLE') && Number.isNaN(Number(value))) {
    return t('parameter.number');
  }
  if (type === 'CAPACITY' && !CAPACITY.test(value)) {
    return t('parameter.capacity');
  }
  if (type === 'TIME' && !TIME.test(value)) {
    return t('parameter.time');
  }
  if (type === 'INT' || type === 'DOUBLE') {
    const n = Number(value);
    if (range.minValue && n < Number(range.minValue)) {
      return t('parameter.min', { min: range.minValue });
    }
    if (range.maxValue && n > Number(range.maxValue)) {
      return t('parameter.max', { max: range.maxValue });
    }
  }
  return null;
}

/** A tenant parameter (a system variable) as a cluster parameter with one value everywhere. */
function asClusterParameter(p: TenantParameter): ClusterParameter {
  return {
    name: p.name,
    section: '',
    scope: 'TENANT',
    defaultValue: p.defaultValue ?? '',
    valueRange: p.valueRange,
    currentValue: { values: [p.currentValue], singleValueInCluster: true, valueToServers: {}, obParameters: [] },
    needRestart: false,
    readonly: p.readonly,
    description: p.description,
  };
}

/**
 * Parameters at `path` (a cluster's, or with `tenant` a tenant's system variables): search,
 * their values on each server, in-place edits.
 */
export default function ClusterParameters({ path, tenant = false }: { path: string; tenant?: boolean }) {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<{ name: string; value: string; error: string | null } | null>(null);
  const parameters = useQuery({
    queryKey: ['parameters', path],
    queryFn: async () =>
      tenant
        ? { contents: (await get<{ contents: TenantParameter[] }>(path)).contents.map(asClusterParameter) }
        : get<{ contents: ClusterParameter[] }>(path),
  });
  const change = useMutation({
    mutationFn: (edit: { name: string; value: string }) => put(path, [edit]),
    onSuccess: async (_, edit) => {
      await client.invalidateQueries({ queryKey: ['parameters', path] });
      setEditing(null);
      message.success(t('parameter.changed', { name: edit.name, value: edit.value }));
    },
    onError: (e: Error) => {
      const sub = e instanceof ApiError ? e.subErrors[0] : undefined;
      setEditing((current) => current && { ...current, error: sub?.message ?? e.message });
    },
  });
  const mayUpdate = may(tenant ? 'CLUSTER:*:TENANT:*:UPDATE' : 'CLUSTER:*:UPDATE');
  const needle = search.trim().toLowerCase();
  const rows = (parameters.data?.contents ?? []).filter(
    (p) => !needle || p.name.toLowerCase().includes(needle) || p.description.toLowerCase().includes(needle),
  );

  const save = (p: ClusterParameter) => {
    if (!editing) {
      return;
    }
    const error = checkValue(p, editing.value, t);
    if (error) {
      setEditing({ ...editing, error });
      return;
    }
    const restart = p.needRestart ? ` ${t('parameter.needsRestart')}` : '';
    ask(t('parameter.confirm', { name: p.name, value: editing.value }) + restart, () =>
      change.mutateAsync({ name: p.name, value: editing.value }).catch(() => undefined),
    );
  };

  return (
    <>
      {parameters.error && (
        <Alert type="error" showIcon style={{ marginBottom: 16 }} message={t('common.loadFailed', { message: parameters.error.message })} />
      )}
      <Input.Search
        allowClear
        placeholder={t('parameter.search')}
        style={{ width: 320, marginBottom: 16 }}
        onChange={(e) => setSearch(e.target.value)}
        data-testid="parameter-search"
      />
      <Table<ClusterParameter>
        rowKey="name"
        size="small"
        data-testid="parameters"
        loading={parameters.isLoading}
        dataSource={rows}
        pagination={{ defaultPageSize: 20, showSizeChanger: true }}
        columns={[
          {
            title: t('common.name'),
            dataIndex: 'name',
            render: (name: string, p) => (
              <Tooltip title={p.description}>
                <Typography.Text strong>{name}</Typography.Text>
              </Tooltip>
            ),
          },
          { title: t('parameter.type'), render: (_, p) => p.valueRange.type },
          {
            title: t('parameter.current'),
            render: (_, p) => {
              if (editing?.name === p.name) {
                return (
                  <Space direction="vertical" size={2}>
                    <Space>
                      <Input
                        autoFocus
                        size="small"
                        status={editing.error ? 'error' : undefined}
                        value={editing.value}
                        onChange={(e) => setEditing({ ...editing, value: e.target.value, error: null })}
                        onPressEnter={() => save(p)}
                        data-testid="parameter-value"
                        style={{ width: 180 }}
                      />
                      <Button size="small" type="primary" loading={change.isPending} onClick={() => save(p)} data-testid="parameter-save">
                        {t('parameter.save')}
                      </Button>
                      <Button size="small" onClick={() => setEditing(null)}>
                        {t('common.cancel')}
                      </Button>
                    </Space>
                    {editing.error && <Typography.Text type="danger">{editing.error}</Typography.Text>}
                  </Space>
                );
              }
              const value = p.currentValue;
              return value.singleValueInCluster ? (
                <span data-testid={`value-${p.name}`}>{value.values[0]}</span>
              ) : (
                <Space direction="vertical" size={0}>
                  {Object.entries(value.valueToServers).map(([v, servers]) => (
                    <span key={v}>
                      {v} <Typography.Text type="secondary">({servers.join(', ')})</Typography.Text>
                    </span>
                  ))}
                </Space>
              );
            },
          },
          { title: t('parameter.default'), dataIndex: 'defaultValue' },
          {
            title: t('parameter.range'),
            render: (_, p) =>
              p.valueRange.allowedValues ??
              ([p.valueRange.minValue, p.valueRange.maxValue].some(Boolean)
                ? `[${p.valueRange.minValue ?? ''}, ${p.valueRange.maxValue ?? ''}]`
                : ''),
          },
          {
            title: '',
            render: (_, p) => (
              <Space size={4}>
                {p.needRestart && <Tag color="orange">{t('parameter.restart')}</Tag>}
                {p.readonly && <Tag>{t('parameter.readonly')}</Tag>}
                {mayUpdate && !p.readonly && editing?.name !== p.name && (
                  <Button
                    type="link"
                    size="small"
                    data-testid={`edit-${p.name}`}
                    onClick={() => setEditing({ name: p.name, value: p.currentValue.values[0] ?? '', error: null })}
                  >
                    {t('parameter.edit')}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
    </>
  );
}
