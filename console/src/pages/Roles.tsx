import { App, Button, Form, Input, Modal, Select, Space, Table, Tag } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post, put } from '../api/client';
import type { Page, Role } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { showRefusal, useConfirm } from './confirm';

interface RoleForm {
  name: string;
  description?: string;
  permissions: string[];
}

/** Roles: the built-in ones (read only) and custom ones, whose permissions are OCP's patterns. */
export function Roles() {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [form] = Form.useForm<RoleForm>();
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => get<Page<Role>>('/api/v2/iam/roles?size=200') });
  // The patterns the built-in roles use are the ones a custom role is offered.
  const patterns = [...new Set((roles.data?.contents ?? []).filter((r) => r.builtIn).flatMap((r) => r.permissions))].sort();
  const remove = useMutation({
    mutationFn: (id: number) => del(`/api/v2/iam/roles/${id}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['roles'] }),
    onError: (e: Error) => message.error(e.message),
  });
  const save = async () => {
    const values = await form.validateFields();
    try {
      if (editing === 'new') {
        await post('/api/v2/iam/roles', values);
      } else if (editing) {
        await put(`/api/v2/iam/roles/${editing.id}`, { description: values.description, permissions: values.permissions });
      }
      setEditing(null);
      void client.invalidateQueries({ queryKey: ['roles'] });
    } catch (e) {
      showRefusal((fields) => form.setFields(fields as never), e, message.error);
    }
  };
  const open = (role: Role | 'new') => {
    setEditing(role);
    form.setFieldsValue(
      role === 'new'
        ? { name: '', description: '', permissions: [] }
        : { name: role.name, description: role.description ?? '', permissions: role.permissions },
    );
  };

  return (
    <>
      {may('ROLE:*:CREATE') && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => open('new')} data-testid="create-role">
          {t('role.create')}
        </Button>
      )}
      <Table<Role>
        rowKey="id"
        data-testid="roles"
        loading={roles.isLoading}
        dataSource={roles.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('common.name'), dataIndex: 'name', width: 200 },
          { title: t('role.description'), dataIndex: 'description' },
          {
            title: t('role.permissions'),
            render: (_, r) => r.permissions.map((p) => <Tag key={p}>{p}</Tag>),
          },
          {
            title: '',
            key: 'actions',
            width: 160,
            render: (_, r) =>
              !r.builtIn && (
                <Space size={0}>
                  {may('ROLE:*:UPDATE') && (
                    <Button type="link" onClick={() => open(r)}>
                      {t('role.edit')}
                    </Button>
                  )}
                  {may('ROLE:*:DELETE') && (
                    <Button
                      type="link"
                      danger
                      onClick={() =>
                        ask(t('role.confirmDelete', { name: r.name }), () => remove.mutateAsync(r.id), { danger: true })
                      }
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
        title={editing === 'new' ? t('role.create') : t('role.edit')}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        onOk={save}
        onCancel={() => setEditing(null)}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true, message: t('login.required') }]}>
            <Input disabled={editing !== 'new'} id="role-name" />
          </Form.Item>
          <Form.Item name="description" label={t('role.description')}>
            <Input />
          </Form.Item>
          <Form.Item name="permissions" label={t('role.permissions')} rules={[{ required: true, message: t('login.required') }]}>
            <Select mode="tags" options={patterns.map((p) => ({ value: p, label: p }))} id="role-permissions" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
