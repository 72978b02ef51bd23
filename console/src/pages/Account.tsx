import { Alert, App, Button, Card, Form, Input, Space, Table, Typography } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';

import { del, get, post } from '../api/client';
import type { AccessKey, CreatedAccessKey } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { showRefusal, useConfirm } from './confirm';
import { When } from './status';

/** The caller's own account: a new password (with the old one) and access keys. */
export default function Account() {
  const t = useT();
  const { info } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [form] = Form.useForm<{ oldPassword: string; newPassword: string }>();
  const [created, setCreated] = useState<CreatedAccessKey | null>(null);
  const keys = useQuery({
    queryKey: ['accessKeys'],
    queryFn: () => get<AccessKey[]>('/api/v2/iam/users/me/accessKeys'),
  });
  const list = keys.data ?? [];
  const create = useMutation({
    mutationFn: () => post<CreatedAccessKey>('/api/v2/iam/users/me/accessKeys'),
    onSuccess: (key) => {
      setCreated(key);
      void client.invalidateQueries({ queryKey: ['accessKeys'] });
    },
    onError: (e: Error) => message.error(e.message),
  });
  const remove = useMutation({
    mutationFn: (id: number) => del(`/api/v2/iam/users/me/accessKeys/${id}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['accessKeys'] }),
    onError: (e: Error) => message.error(e.message),
  });
  const changePassword = async () => {
    const values = await form.validateFields();
    try {
      await post(`/api/v2/iam/users/${info!.userId}/changePassword`, values);
      // A new password ends every session of the user, this one too.
      message.success(t('account.passwordChanged'));
      client.setQueryData(['session'], null);
      navigate('/login', { replace: true });
    } catch (e) {
      showRefusal((fields) => form.setFields(fields as never), e, message.error);
    }
  };

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card title={t('account.password')}>
        <Form form={form} layout="vertical" style={{ maxWidth: 360 }} onFinish={changePassword}>
          <Form.Item name="oldPassword" label={t('account.oldPassword')} rules={[{ required: true, message: t('login.required') }]}>
            <Input.Password autoComplete="current-password" id="old-password" />
          </Form.Item>
          <Form.Item name="newPassword" label={t('user.newPassword')} rules={[{ required: true, message: t('login.required') }]}>
            <Input.Password autoComplete="new-password" id="own-new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            {t('account.changePassword')}
          </Button>
        </Form>
      </Card>
      <Card
        title={t('account.accessKeys')}
        extra={
          <Button onClick={() => create.mutate()} loading={create.isPending} data-testid="create-access-key">
            {t('account.createKey')}
          </Button>
        }
      >
        {created && (
          <Alert
            type="warning"
            showIcon
            closable
            onClose={() => setCreated(null)}
            style={{ marginBottom: 16 }}
            message={t('account.secretOnce')}
            description={
              <Typography.Paragraph copyable code style={{ margin: 0 }} data-testid="access-key-secret">
                {`${created.accessKeyId}:${created.accessKeySecret}`}
              </Typography.Paragraph>
            }
          />
        )}
        <Table<AccessKey>
          rowKey="id"
          size="small"
          pagination={false}
          data-testid="access-keys"
          loading={keys.isLoading}
          dataSource={list}
          columns={[
            { title: t('account.keyId'), dataIndex: 'accessKeyId' },
            { title: t('common.created'), dataIndex: 'createTime', render: (v: string) => <When value={v} /> },
            { title: t('account.lastUsed'), dataIndex: 'lastUsedTime', render: (v: string) => <When value={v} /> },
            {
              title: '',
              key: 'actions',
              render: (_, k) => (
                <Button
                  type="link"
                  danger
                  onClick={() =>
                    ask(t('account.confirmDeleteKey', { id: k.accessKeyId }), () => remove.mutateAsync(k.id), { danger: true })
                  }
                >
                  {t('common.delete')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}
