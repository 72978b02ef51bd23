import { App, Button, Form, Input, Modal, Select, Space, Table, Tag, Typography } from '@oceanbase/design';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, post } from '../api/client';
import type { Database, DbRole, DbUser } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { showRefusal, useConfirm } from './confirm';
import { diffGrants, GLOBAL_PRIVILEGES, GrantPreview, GrantsEditor, type Grants } from './privileges';

const NONE: Grants = { global: [], databases: [] };

function grantsOf(user: DbUser): Grants {
  return { global: user.globalPrivileges, databases: user.dbPrivileges };
}

/** A tenant's users: create with privileges and roles, edit privileges, lock, password, delete. */
export default function ClusterDbUsers({ base, rootUser }: { base: string; rootUser: string }) {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [privileges, setPrivileges] = useState<DbUser | null>(null);
  const [password, setPassword] = useState<DbUser | null>(null);
  const users = useQuery({ queryKey: ['tenant', base, 'users'], queryFn: () => get<{ contents: DbUser[] }>(`${base}/users`) });
  const databases = useQuery({ queryKey: ['tenant', base, 'databases'], queryFn: () => get<{ contents: Database[] }>(`${base}/databases`) });
  const roles = useQuery({ queryKey: ['tenant', base, 'roles'], queryFn: () => get<{ contents: DbRole[] }>(`${base}/roles`) });
  const refresh = () => client.invalidateQueries({ queryKey: ['tenant', base] });
  const userPath = (u: DbUser) => `${base}/users/${encodeURIComponent(u.username)}`;
  const mayUpdate = may('CLUSTER:*:TENANT:*:UPDATE');
  const dbNames = (databases.data?.contents ?? []).map((d) => d.dbName);

  return (
    <>
      {mayUpdate && (
        <Button type="primary" style={{ marginBottom: 16 }} onClick={() => setCreating(true)} data-testid="create-db-user">
          {t('dbUser.create')}
        </Button>
      )}
      <Table<DbUser>
        rowKey="username"
        size="small"
        data-testid="db-users"
        loading={users.isLoading}
        dataSource={users.data?.contents ?? []}
        pagination={false}
        columns={[
          { title: t('login.username'), dataIndex: 'username' },
          {
            title: t('common.status'),
            dataIndex: 'isLocked',
            render: (locked: boolean) => (locked ? <Tag color="red">{t('user.locked')}</Tag> : <Tag color="green">{t('user.active')}</Tag>),
          },
          {
            title: t('privilege.global'),
            render: (_, u) => <Typography.Text ellipsis={{ tooltip: true }} style={{ maxWidth: 260 }}>{u.globalPrivileges.join(', ')}</Typography.Text>,
          },
          { title: t('privilege.databases'), render: (_, u) => u.dbPrivileges.map((d) => `${d.dbName}: ${d.privileges.join(', ')}`).join('; ') },
          { title: t('dbUser.roles'), render: (_, u) => u.grantedRoles.join(', ') },
          {
            title: '',
            render: (_, u) =>
              mayUpdate &&
              u.username !== rootUser && (
                <Space size={0} wrap>
                  <Button type="link" size="small" onClick={() => setPrivileges(u)} data-testid={`privileges-${u.username}`}>
                    {t('dbUser.privileges')}
                  </Button>
                  <Button type="link" size="small" onClick={() => setPassword(u)}>
                    {t('account.changePassword')}
                  </Button>
                  <Button
                    type="link"
                    size="small"
                    data-testid={`${u.isLocked ? 'unlock' : 'lock'}-${u.username}`}
                    onClick={() =>
                      ask(t(u.isLocked ? 'dbUser.confirmUnlock' : 'dbUser.confirmLock', { name: u.username }), () =>
                        post(`${userPath(u)}/${u.isLocked ? 'unlock' : 'lock'}`).then(refresh),
                      )
                    }
                  >
                    {t(u.isLocked ? 'user.unlock' : 'user.lock')}
                  </Button>
                  <Button
                    type="link"
                    size="small"
                    danger
                    onClick={() => ask(t('dbUser.confirmDelete', { name: u.username }), () => del(userPath(u)).then(refresh), { danger: true })}
                  >
                    {t('common.delete')}
                  </Button>
                </Space>
              ),
          },
        ]}
      />
      <CreateUser
        open={creating}
        databases={dbNames}
        roles={(roles.data?.contents ?? []).map((r) => r.name)}
        onClose={() => setCreating(false)}
        onCreate={async (body) => {
          await post(`${base}/users`, body);
          await refresh();
          message.success(t('common.saved'));
        }}
      />
      {privileges && (
        <EditPrivileges
          user={privileges}
          databases={dbNames}
          onClose={() => setPrivileges(null)}
          onSave={async (to) => {
            // One modify per scope that changes: the server turns each into its grants and revokes.
            const from = grantsOf(privileges);
            const changes = diffGrants(from, to);
            if (changes.some((c) => c.on === '*.*')) {
              // What the editor offers as chosen, and what it cannot offer as the user holds it.
              const offered = (p: string) => GLOBAL_PRIVILEGES.includes(p);
              await post(`${userPath(privileges)}/modifyGlobalPrivilege`, {
                globalPrivileges: [...to.global.filter(offered), ...from.global.filter((p) => !offered(p))],
              });
            }
            const changedDbs = [...new Set(changes.filter((c) => c.on !== '*.*').map((c) => c.on.slice(0, -2)))];
            if (changedDbs.length > 0) {
              await post(`${userPath(privileges)}/modifyDbPrivilege`, {
                dbPrivileges: changedDbs.map((dbName) => ({ dbName, privileges: to.databases.find((d) => d.dbName === dbName)?.privileges ?? [] })),
              });
            }
            await refresh();
            message.success(t('common.saved'));
          }}
        />
      )}
      <Modal
        open={password !== null}
        title={t('account.changePassword')}
        destroyOnClose
        onCancel={() => setPassword(null)}
        footer={null}
      >
        {password && (
          <PasswordForm
            onSubmit={async (newPassword) => {
              await post(`${userPath(password)}/changePassword`, { newPassword });
              setPassword(null);
              message.success(t('common.saved'));
            }}
          />
        )}
      </Modal>
    </>
  );
}

function PasswordForm({ onSubmit }: { onSubmit: (password: string) => Promise<void> }) {
  const t = useT();
  const [form] = Form.useForm<{ newPassword: string }>();
  return (
    <Form
      form={form}
      layout="vertical"
      onFinish={(v) => onSubmit(v.newPassword).catch((e) => showRefusal(form.setFields as never, e, (m) => form.setFields([{ name: 'newPassword', errors: [m] }])))}
    >
      <Form.Item name="newPassword" label={t('login.password')} rules={[{ required: true, max: 128, message: t('cluster.passwordRule') }]}>
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Button type="primary" htmlType="submit">
        {t('parameter.save')}
      </Button>
    </Form>
  );
}

function CreateUser({
  open,
  databases,
  roles,
  onClose,
  onCreate,
}: {
  open: boolean;
  databases: string[];
  roles: string[];
  onClose: () => void;
  onCreate: (body: unknown) => Promise<void>;
}) {
  const t = useT();
  const [form] = Form.useForm<{ username: string; password: string; roles: string[] }>();
  const [grants, setGrants] = useState<Grants>(NONE);
  const [busy, setBusy] = useState(false);
  return (
    <Modal
      open={open}
      width={820}
      title={t('dbUser.create')}
      okButtonProps={{ loading: busy, id: 'db-user-save' }}
      onCancel={onClose}
      onOk={async () => {
        const values = await form.validateFields();
        setBusy(true);
        try {
          await onCreate({
            username: values.username,
            password: values.password,
            roles: values.roles ?? [],
            globalPrivileges: grants.global,
            dbPrivileges: grants.databases.filter((d) => d.privileges.length > 0),
          });
          form.resetFields();
          setGrants(NONE);
          onClose();
        } catch (e) {
          showRefusal(form.setFields as never, e, (m) => form.setFields([{ name: 'username', errors: [m] }]));
        } finally {
          setBusy(false);
        }
      }}
    >
      <Form form={form} layout="vertical">
        <Form.Item name="username" label={t('login.username')} rules={[{ required: true, pattern: /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/, message: t('database.nameRule') }]}>
          <Input id="db-user-name" />
        </Form.Item>
        <Form.Item name="password" label={t('login.password')} rules={[{ required: true, max: 128, message: t('cluster.passwordRule') }]}>
          <Input.Password id="db-user-password" autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="roles" label={t('dbUser.roles')}>
          <Select mode="multiple" options={roles.map((r) => ({ value: r, label: r }))} />
        </Form.Item>
      </Form>
      <GrantsEditor value={grants} onChange={setGrants} databases={databases} />
      <div style={{ marginTop: 16 }}>
        <Typography.Text strong>{t('privilege.willRun')}</Typography.Text>
        <div style={{ marginTop: 8 }}>
          <GrantPreview changes={diffGrants(NONE, grants)} />
        </div>
      </div>
    </Modal>
  );
}

function EditPrivileges({
  user,
  databases,
  onClose,
  onSave,
}: {
  user: DbUser;
  databases: string[];
  onClose: () => void;
  onSave: (to: Grants) => Promise<void>;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [grants, setGrants] = useState<Grants>(grantsOf(user));
  const [busy, setBusy] = useState(false);
  const changes = diffGrants(grantsOf(user), grants);
  return (
    <Modal
      open
      width={820}
      title={t('dbUser.privilegesOf', { name: user.username })}
      okButtonProps={{ loading: busy, disabled: changes.length === 0, id: 'privileges-save' }}
      onCancel={onClose}
      onOk={async () => {
        setBusy(true);
        try {
          await onSave(grants);
          onClose();
        } catch (e) {
          message.error(e instanceof Error ? e.message : String(e));
        } finally {
          setBusy(false);
        }
      }}
    >
      <GrantsEditor value={grants} onChange={setGrants} databases={databases} />
      <div style={{ marginTop: 16 }}>
        <Typography.Text strong>{t('privilege.willRun')}</Typography.Text>
        <div style={{ marginTop: 8 }}>
          <GrantPreview changes={changes} />
        </div>
      </div>
    </Modal>
  );
}
