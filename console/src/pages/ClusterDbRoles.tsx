import { App, Button, Checkbox, Form, Input, Modal, Select, Space, Table, Typography } from '@oceanbase/design';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post } from '../api/client';
import type { DbRole } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { showRefusal, useConfirm } from './confirm';
import { GLOBAL_PRIVILEGES } from './privileges';

/** A tenant's roles: their privileges, roles and grantees; create and delete. */
export default function ClusterDbRoles({ base }: { base: string }) {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [form] = Form.useForm<{ roleName: string; globalPrivileges: string[]; roles: string[] }>();
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const roles = useQuery({ queryKey: ['tenant', base, 'roles'], queryFn: () => get<{ contents: DbRole[] }>(`${base}/roles`) });
  const refresh = () => client.invalidateQueries({ queryKey: ['tenant', base] });
  const mayUpdate = may('CLUSTER:*:TENANT:*:UPDATE');
  return (
    <>
      {mayUpdate && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => setCreating(true)} data-testid="create-db-role">
          {t('dbRole.create')}
        </Button>
      )}
      <Table<DbRole>
        rowKey="name"
        size="small"
        data-testid="db-roles"
        loading={roles.isLoading}
        dataSource={roles.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('privilege.global'), render: (_, r) => r.globalPrivileges.join(', ') },
          { title: t('dbUser.roles'), render: (_, r) => r.grantedRoles.join(', ') },
          { title: t('dbRole.grantees'), render: (_, r) => [...r.userGrantees, ...r.roleGrantees].join(', ') },
          {
            title: '',
            render: (_, r) =>
              mayUpdate && (
                <Button
                  type="link"
                  size="small"
                  danger
                  onClick={() =>
                    ask(t('dbRole.confirmDelete', { name: r.name }), () => del(`${base}/roles/${encodeURIComponent(r.name)}`).then(refresh), { danger: true })
                  }
                >
                  {t('common.delete')}
                </Button>
              ),
          },
        ]}
      />
      <Modal
        open={creating}
        width={720}
        title={t('dbRole.create')}
        okButtonProps={{ loading: busy }}
        onCancel={() => setCreating(false)}
        onOk={async () => {
          const values = await form.validateFields();
          setBusy(true);
          try {
            await post(`${base}/roles`, { roleName: values.roleName, globalPrivileges: values.globalPrivileges ?? [], roles: values.roles ?? [] });
            await refresh();
            form.resetFields();
            setCreating(false);
            message.success(t('common.saved'));
          } catch (e) {
            showRefusal(form.setFields as never, e, (m) => form.setFields([{ name: 'roleName', errors: [m] }]));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="roleName" label={t('common.name')} rules={[{ required: true, pattern: /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/, message: t('database.nameRule') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="globalPrivileges" label={t('privilege.global')}>
            <Checkbox.Group options={GLOBAL_PRIVILEGES.map((p) => ({ value: p, label: p }))} />
          </Form.Item>
          <Form.Item name="roles" label={t('dbUser.roles')}>
            <Select mode="multiple" options={(roles.data?.contents ?? []).map((r) => ({ value: r.name, label: r.name }))} />
          </Form.Item>
        </Form>
        <Space>
          <Typography.Text type="secondary">{t('dbRole.hint')}</Typography.Text>
        </Space>
      </Modal>
    </>
  );
}
