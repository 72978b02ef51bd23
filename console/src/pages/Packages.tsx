import { App, Button, Card, Progress, Space, Table, Upload } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { del, get, query, upload } from '../api/client';
import type { Page, SoftwarePackage } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { useConfirm } from './confirm';
import { When } from './status';
import { bytes as size } from './format';
import { usePaging } from './paging';

/** Software packages: upload (with its progress), list, delete. */
export default function Packages() {
  const t = useT();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const paging = usePaging();
  const [progress, setProgress] = useState<number | null>(null);
  const packages = useQuery({
    queryKey: ['packages', paging.params],
    queryFn: () =>
      get<Page<SoftwarePackage>>(`/api/v2/software-packages${query(paging.params)}`),
  });
  const remove = useMutation({
    mutationFn: (id: number) => del(`/api/v2/software-packages/${id}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['packages'] }),
    onError: (e: Error) => message.error(e.message),
  });

  const send = async (file: File) => {
    setProgress(0);
    try {
      await upload(`/api/v2/software-packages${query({ file: file.name })}`, file, setProgress);
      message.success(t('package.uploaded', { name: file.name }));
      void client.invalidateQueries({ queryKey: ['packages'] });
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setProgress(null);
    }
  };

  return (
    <Card
      title={t('nav.packages')}
      extra={
        may('PACKAGE:*:CREATE') && (
          <Space>
            {progress !== null && (
              <Progress percent={Math.round(progress * 100)} size="small" style={{ width: 160 }} data-testid="upload-progress" />
            )}
            <Upload
              showUploadList={false}
              beforeUpload={(file) => {
                void send(file);
                return false;
              }}
            >
              <Button type="primary" disabled={progress !== null} data-testid="upload">
                {t('package.upload')}
              </Button>
            </Upload>
          </Space>
        )
      }
    >
      <Table<SoftwarePackage>
        rowKey="id"
        data-testid="packages"
        loading={packages.isLoading}
        dataSource={packages.data?.contents ?? []}
        pagination={paging.pagination(packages.data?.page.totalElements)}
        columns={[
          { title: t('package.file'), dataIndex: 'fileName' },
          { title: t('package.version'), dataIndex: 'version' },
          { title: t('task.type'), dataIndex: 'type' },
          { title: t('package.size'), dataIndex: 'size', render: (v: number) => size(v) },
          { title: t('common.created'), dataIndex: 'createTime', render: (v: string) => <When value={v} /> },
          {
            title: '',
            key: 'actions',
            render: (_, p) =>
              may('PACKAGE:*:DELETE') && (
                <Button
                  type="link"
                  danger
                  onClick={() =>
                    ask(t('package.confirmDelete', { name: p.fileName }), () => remove.mutateAsync(p.id), { danger: true })
                  }
                >
                  {t('common.delete')}
                </Button>
              ),
          },
        ]}
      />
    </Card>
  );
}
