import { Alert, Button, Descriptions, Space } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';

import { get, post } from '../api/client';
import type { Compaction, TaskInstance } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { useConfirm } from './confirm';
import { useTaskAction } from './taskAction';

/** Major compaction: its state as the server reports it, and starting one (a task). */
export default function ClusterCompaction({ clusterId }: { clusterId: number }) {
  const t = useT();
  const { may } = useSession();
  const ask = useConfirm();
  const path = `/api/v2/ob/clusters/${clusterId}/compaction`;
  const compaction = useQuery({ queryKey: ['cluster', String(clusterId), 'compaction'], queryFn: () => get<Compaction>(path), refetchInterval: 5000 });
  const start = useTaskAction(() => post<TaskInstance>(path));
  const c = compaction.data;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {compaction.error && <Alert type="error" showIcon message={t('common.loadFailed', { message: compaction.error.message })} />}
      {c && (
        <Descriptions column={2} size="small" data-testid="compaction">
          <Descriptions.Item label={t('common.status')}>{c.status}</Descriptions.Item>
          <Descriptions.Item label={t('compaction.error')}>{c.isError ? t('compaction.yes') : t('compaction.no')}</Descriptions.Item>
          <Descriptions.Item label={t('compaction.frozenScn')}>{c.frozenScn}</Descriptions.Item>
          <Descriptions.Item label={t('compaction.lastScn')}>{c.lastScn}</Descriptions.Item>
          <Descriptions.Item label={t('compaction.started')}>{c.startTime ?? '-'}</Descriptions.Item>
          <Descriptions.Item label={t('compaction.lastFinished')}>{c.lastFinishTime ?? '-'}</Descriptions.Item>
        </Descriptions>
      )}
      {may('CLUSTER:*:UPDATE') && (
        <Button
          type="primary"
          disabled={c?.status === 'COMPACTING'}
          loading={start.isPending}
          data-testid="start-compaction"
          onClick={() => ask(t('compaction.confirm'), () => start.mutateAsync())}
        >
          {t('compaction.start')}
        </Button>
      )}
    </Space>
  );
}
