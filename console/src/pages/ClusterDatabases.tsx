import { App, Button, Checkbox, Form, Input, Modal, Space, Table, Tag, Typography } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post, put } from '../api/client';
import type { Database } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { showRefusal, useConfirm } from './confirm';
import { When } from './status';

interface Edit {
  dbName: string;
  collation?: string;
  readonly: boolean;
}

/** A tenant's databases: list, create, change collation or read-only, delete. */
export default function ClusterDatabases({ base }: { base: string }) {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [form] = Form.useForm<Edit>();
  const [editing, setEditing] = useState<Database | 'new' | null>(null);
  const key = ['tenant', base, 'databases'];
  const databases = useQuery({ queryKey: key, queryFn: () => get<{ contents: Database[] }>(`${base}/databases`) });
  const refresh = () => client.invalidateQueries({ queryKey: ['tenant', base] });
  const save = useMutation({
    mutationFn: (values: Edit) =>
      editing === 'new'
        ? post(`${base}/databases`, { dbName: values.dbName, collation: values.collation || null, readonly: values.readonly })
        : put(`${base}/databases/${encodeURIComponent(values.dbName)}`, { collation: values.collation || null, readonly: values.readonly }),
    onSuccess: async () => {
      await refresh();
      setEditing(null);
      message.success(t('common.saved'));
    },
    onError: (e) => showRefusal(form.setFields as never, e, (m) => message.error(m)),
  });
  const mayUpdate = may('CLUSTER:*:TENANT:*:UPDATE');
  const open = (db: Database | 'new') => {
    setEditing(db);
    form.setFieldsValue(db === 'new' ? { dbName: '', collation: '', readonly: false } : { dbName: db.dbName, collation: db.collation, readonly: db.readonly });
  };

  return (
    <>
      {mayUpdate && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => open('new')} data-testid="create-database">
          {t('database.create')}
        </Button>
      )}
      <Table<Database>
        rowKey="dbName"
        size="small"
        data-testid="databases"
        loading={databases.isLoading}
        dataSource={databases.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('common.name'), dataIndex: 'dbName' },
          { title: t('database.charset'), dataIndex: 'charset' },
          { title: t('database.collation'), dataIndex: 'collation' },
          { title: t('database.readonly'), dataIndex: 'readonly', render: (r: boolean) => r && <Tag>{t('parameter.readonly')}</Tag> },
          {
            title: t('database.connect'),
            render: (_, d) => (
              <Typography.Text copyable code style={{ fontSize: 12 }}>
                {d.connectionUrls[0]?.connectionString}
              </Typography.Text>
            ),
          },
          { title: t('common.created'), dataIndex: 'createTime', render: (v: string) => <When value={v} /> },
          {
            title: '',
            render: (_, d) =>
              mayUpdate && (
                <Space size={0}>
                  <Button type="link" size="small" onClick={() => open(d)} data-testid={`edit-db-${d.dbName}`}>
                    {t('parameter.edit')}
                  </Button>
                  <Button
                    type="link"
                    size="small"
                    danger
                    data-testid={`delete-db-${d.dbName}`}
                    onClick={() =>
                      ask(t('database.confirmDelete', { name: d.dbName }), () => del(`${base}/databases/${encodeURIComponent(d.dbName)}`).then(refresh), { danger: true })
                    }
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
        title={editing === 'new' ? t('database.create') : t('database.edit')}
        okButtonProps={{ loading: save.isPending, id: 'database-save' }}
        onCancel={() => setEditing(null)}
        onOk={() => void form.validateFields().then((v) => save.mutate(v))}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="dbName" label={t('common.name')} rules={[{ required: true, pattern: /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/, message: t('database.nameRule') }]}>
            <Input id="database-name" disabled={editing !== 'new'} />
          </Form.Item>
          <Form.Item name="collation" label={t('database.collation')} extra={t('database.collationHint')}>
            <Input placeholder="utf8mb4_general_ci" />
          </Form.Item>
          <Form.Item name="readonly" valuePropName="checked">
            <Checkbox>{t('database.readonly')}</Checkbox>
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
