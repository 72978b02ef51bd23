import { App, Button, Card, Form, Input, Modal, Select, Space, Table, Tabs, Tag } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post, query } from '../api/client';
import type { Page, Role, User } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { LoginHistory } from './LoginHistory';
import { Roles } from './Roles';
import { showRefusal, useConfirm } from './confirm';
import { When } from './status';
import { usePaging } from './paging';

interface NewUser {
  username: string;
  password: string;
  email?: string;
  roleIds: number[];
}

/** Users and roles, and the logon history, as tabs. */
export default function Security() {
  const t = useT();
  const { may } = useSession();
  const items = [
    { key: 'users', label: t('nav.usersTab'), children: <Users /> },
    ...(may('ROLE:*:READ') ? [{ key: 'roles', label: t('nav.rolesTab'), children: <Roles /> }] : []),
    { key: 'history', label: t('nav.historyTab'), children: <LoginHistory /> },
  ];
  return (
    <Card title={t('nav.users')}>
      <Tabs items={items} destroyInactiveTabPane />
    </Card>
  );
}

/** The platform's users: create, lock and unlock, set a new password, delete. */
function Users() {
  const t = useT();
  const { may, info } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const paging = usePaging();
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [createForm] = Form.useForm<NewUser>();
  const [passwordForm] = Form.useForm<{ newPassword: string }>();
  const users = useQuery({
    queryKey: ['users', paging.params],
    queryFn: () => get<Page<User>>(`/api/v2/iam/users${query(paging.params)}`),
  });
  const roles = useQuery({
    queryKey: ['roles'],
    enabled: creating,
    queryFn: () => get<Page<Role>>('/api/v2/iam/roles?size=200'),
  });
  const refresh = () => void client.invalidateQueries({ queryKey: ['users'] });
  const act = useMutation({
    mutationFn: ({ method, path }: { method: 'POST' | 'DELETE'; path: string }) =>
      method === 'DELETE' ? del(path) : post(path),
    onSuccess: refresh,
    onError: (e: Error) => message.error(e.message),
  });
  const confirm = (title: string, method: 'POST' | 'DELETE', path: string) =>
    ask(title, () => act.mutateAsync({ method, path }), { danger: method === 'DELETE' });

  const create = async () => {
    const values = await createForm.validateFields();
    try {
      await post('/api/v2/iam/users', { ...values, roleIds: values.roleIds ?? [] });
      setCreating(false);
      createForm.resetFields();
      refresh();
    } catch (e) {
      showRefusal((f) => createForm.setFields(f as never), e, message.error);
    }
  };
  const resetPassword = async () => {
    const values = await passwordForm.validateFields();
    try {
      await post(`/api/v2/iam/users/${resetting!.id}/changePassword`, values);
      setResetting(null);
      passwordForm.resetFields();
      message.success(t('user.passwordSet'));
    } catch (e) {
      showRefusal((f) => passwordForm.setFields(f as never), e, message.error);
    }
  };
  const mayUpdate = may('USER:*:UPDATE');

  return (
    <>
      {may('USER:*:CREATE') && (
        <Button type="primary" style={{ marginBottom: 16 }} data-testid="create-user" onClick={() => setCreating(true)}>
          {t('user.create')}
        </Button>
      )}
      <Table<User>
        rowKey="id"
        data-testid="users"
        loading={users.isLoading}
        dataSource={users.data?.contents ?? []}
        pagination={paging.pagination(users.data?.page.totalElements)}
        columns={[
          { title: t('login.username'), dataIndex: 'username' },
          { title: t('user.roles'), render: (_, u) => u.roles.map((r) => <Tag key={r.id}>{r.name}</Tag>) },
          { title: t('common.status'), render: (_, u) => (u.locked ? <Tag color="red">{t('user.locked')}</Tag> : <Tag>{t('user.active')}</Tag>) },
          { title: t('common.created'), dataIndex: 'createTime', render: (v: string) => <When value={v} /> },
          {
            title: '',
            key: 'actions',
            render: (_, u) =>
              mayUpdate &&
              u.username !== 'admin' &&
              u.id !== info?.userId && (
                <Space size={0}>
                  <Button type="link" onClick={() => setResetting(u)}>
                    {t('user.resetPassword')}
                  </Button>
                  {u.locked ? (
                    <Button type="link" onClick={() => confirm(t('user.confirmUnlock', { name: u.username }), 'POST', `/api/v2/iam/users/${u.id}/unlock`)}>
                      {t('user.unlock')}
                    </Button>
                  ) : (
                    <Button type="link" onClick={() => confirm(t('user.confirmLock', { name: u.username }), 'POST', `/api/v2/iam/users/${u.id}/lock`)}>
                      {t('user.lock')}
                    </Button>
                  )}
                  {may('USER:*:DELETE') && (
                    <Button type="link" danger onClick={() => confirm(t('user.confirmDelete', { name: u.username }), 'DELETE', `/api/v2/iam/users/${u.id}`)}>
                      {t('common.delete')}
                    </Button>
                  )}
                </Space>
              ),
          },
        ]}
      />
      <Modal
        open={creating}
        title={t('user.create')}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        onOk={create}
        onCancel={() => setCreating(false)}
        destroyOnClose
      >
        <Form form={createForm} layout="vertical" preserve={false}>
          <Form.Item name="username" label={t('login.username')} rules={[{ required: true, message: t('login.required') }]}>
            <Input id="new-username" />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.required') }]}>
            <Input.Password id="new-password" autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="email" label={t('user.email')}>
            <Input />
          </Form.Item>
          <Form.Item name="roleIds" label={t('user.roles')}>
            <Select
              mode="multiple"
              loading={roles.isLoading}
              options={(roles.data?.contents ?? []).map((r) => ({ value: r.id, label: r.name }))}
            />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={resetting !== null}
        title={t('user.resetPasswordOf', { name: resetting?.username ?? '' })}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        onOk={resetPassword}
        onCancel={() => setResetting(null)}
        destroyOnClose
      >
        <Form form={passwordForm} layout="vertical" preserve={false}>
          <Form.Item name="newPassword" label={t('user.newPassword')} rules={[{ required: true, message: t('login.required') }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
