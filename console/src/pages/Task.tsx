import { Alert, App, Button, Card, Descriptions, Space, Typography } from '@oceanbase/design';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useParams } from 'react-router-dom';

import { get, post } from '../api/client';
import type { SubtaskLog, TaskEvent, TaskInstance } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { useConfirm } from './confirm';
import { Status, When } from './status';
import { TaskDag } from './TaskDag';

/**
 * One task: its DAG, updated live from the task's event stream (no polling, no reload), the
 * log of a chosen subtask that follows while it runs, and the operator's actions the state
 * and the caller's permissions allow.
 */
export default function Task() {
  const t = useT();
  const { id } = useParams();
  const { may } = useSession();
  const { message } = App.useApp();
  const ask = useConfirm();
  const client = useQueryClient();
  const key = ['task', id];
  const task = useQuery({ queryKey: key, queryFn: () => get<TaskInstance>(`/api/v2/tasks/instances/${id}`) });
  const [selected, setSelected] = useState<number | undefined>();
  const [log, setLog] = useState('');
  const selectedRef = useRef<number | undefined>(undefined);
  selectedRef.current = selected;
  // A stream ends with its task; an action that runs the task again opens a new one, which
  // replays the events: those seen already are skipped.
  const [stream, setStream] = useState(0);
  const lastEvent = useRef(0);

  // The event stream patches the task in place; its end reloads it once.
  useEffect(() => {
    const source = new EventSource(`/api/v2/tasks/instances/${id}/events`);
    const apply = (e: MessageEvent) => {
      const seq = Number(e.lastEventId);
      if (seq && seq <= lastEvent.current) return;
      lastEvent.current = seq || lastEvent.current;
      const event = JSON.parse(e.data) as TaskEvent;
      client.setQueryData<TaskInstance>(key, (old) => {
        if (!old) return old;
        if (event.kind === 'TASK' && event.status) {
          return { ...old, status: event.status as TaskInstance['status'] };
        }
        if (event.kind === 'SUBTASK' && event.status) {
          return {
            ...old,
            subtasks: old.subtasks.map((s) =>
              s.id === event.subtaskId ? { ...s, status: event.status as typeof s.status } : s,
            ),
          };
        }
        return old;
      });
      if (event.kind === 'LOG' && event.subtaskId === selectedRef.current && event.line) {
        setLog((text) => (text ? `${text}\n${event.line}` : event.line!));
      }
    };
    for (const kind of ['task', 'subtask', 'log']) {
      source.addEventListener(kind, apply);
    }
    source.addEventListener('end', () => {
      source.close();
      void client.invalidateQueries({ queryKey: key });
    });
    return () => source.close();
    // The stream is the task's; it restarts for another task or after an action.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, stream]);

  useEffect(() => {
    lastEvent.current = 0;
  }, [id]);

  useEffect(() => {
    if (selected === undefined) return;
    let current = true;
    void get<SubtaskLog>(`/api/v2/tasks/instances/${id}/subtasks/${selected}/log`).then((l) => {
      if (current) setLog(l.log);
    });
    return () => {
      current = false;
    };
  }, [id, selected]);

  const act = useMutation({
    mutationFn: (path: string) => post(path),
    onSuccess: () => {
      message.success(t('task.actionDone'));
      void client.invalidateQueries({ queryKey: key });
      setStream((n) => n + 1);
    },
    onError: (e: Error) => message.error(e.message),
  });
  const confirm = (title: string, path: string) => ask(title, () => act.mutateAsync(path));

  if (task.error) {
    return <Alert type="error" showIcon message={t('common.loadFailed', { message: task.error.message })} />;
  }
  const data = task.data;
  const subtask = data?.subtasks.find((s) => s.id === selected);
  const mayUpdate = may('TASK:*:UPDATE');
  const base = `/api/v2/tasks/instances/${id}`;

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card
        loading={task.isLoading}
        title={data ? `${data.name} #${data.id}` : ''}
        extra={
          mayUpdate &&
          data?.status === 'FAILED' && (
            <Space>
              <Button data-testid="task-retry" onClick={() => confirm(t('task.confirmRetry'), `${base}/retry`)}>
                {t('task.retry')}
              </Button>
              {!data.prohibitRollback && (
                <Button danger onClick={() => confirm(t('task.confirmRollback'), `${base}/rollback`)}>
                  {t('task.rollback')}
                </Button>
              )}
            </Space>
          )
        }
      >
        {data && (
          <Descriptions column={3} size="small">
            <Descriptions.Item label={t('common.status')}>
              <span data-testid="task-status">
                <Status value={data.status} />
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('task.type')}>{data.type}</Descriptions.Item>
            <Descriptions.Item label={t('task.creator')}>{data.creator}</Descriptions.Item>
            <Descriptions.Item label={t('task.started')}>
              <When value={data.startTime} />
            </Descriptions.Item>
            <Descriptions.Item label={t('task.finished')}>
              <When value={data.finishTime} />
            </Descriptions.Item>
          </Descriptions>
        )}
      </Card>
      {data && (
        <Card title={t('task.dag')}>
          <TaskDag subtasks={data.subtasks} selected={selected} onSelect={setSelected} />
        </Card>
      )}
      {subtask && (
        <Card
          title={`${subtask.name} (${subtask.status})`}
          extra={
            mayUpdate && (
              <Space>
                {subtask.status === 'FAILED' && (
                  <>
                    <Button onClick={() => confirm(t('task.confirmRetry'), `${base}/subtasks/${subtask.id}/retry`)}>
                      {t('task.retry')}
                    </Button>
                    <Button onClick={() => confirm(t('task.confirmSkip'), `${base}/subtasks/${subtask.id}/skip`)}>
                      {t('task.skip')}
                    </Button>
                  </>
                )}
                {subtask.status === 'RUNNING' && (
                  <Button danger onClick={() => confirm(t('task.confirmCancel'), `${base}/subtasks/${subtask.id}/cancel`)}>
                    {t('task.cancel')}
                  </Button>
                )}
              </Space>
            )
          }
        >
          <Typography.Paragraph>
            <pre data-testid="subtask-log" style={{ maxHeight: 360, overflow: 'auto', margin: 0 }}>
              {log || t('task.noLog')}
            </pre>
          </Typography.Paragraph>
        </Card>
      )}
    </Space>
  );
}
