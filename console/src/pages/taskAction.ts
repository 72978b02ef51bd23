import { App } from '@oceanbase/design';
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { useNavigate } from 'react-router-dom';

import type { TaskInstance } from '../api/types';

/**
 * An operation that answers a task: once accepted, the data it will change (`refresh`) is read
 * again and the task's live page opens; a refusal shows the server's message.
 */
export function useTaskAction<V = void>(start: (variables: V) => Promise<TaskInstance>, refresh?: QueryKey) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const { message } = App.useApp();
  return useMutation({
    mutationFn: start,
    onSuccess: (task) => {
      if (refresh) void client.invalidateQueries({ queryKey: refresh });
      navigate(`/tasks/${task.id}`);
    },
    onError: (e: Error) => message.error(e.message),
  });
}
