import { Badge, Tag } from '@oceanbase/design';

const COLORS: Record<string, 'success' | 'processing' | 'error' | 'warning' | 'default'> = {
  AVAILABLE: 'success',
  STARTED: 'success',
  ONLINE: 'success',
  RUNNING: 'processing',
  SUCCESSFUL: 'success',
  FAILED: 'error',
  OFFLINE: 'error',
  UNAVAILABLE: 'error',
  NEW: 'default',
  STOPPED: 'default',
  CREATING: 'processing',
  STARTING: 'processing',
  STOPPING: 'processing',
  RESTARTING: 'processing',
  OPERATING: 'processing',
  SERVICE_STOPPED: 'warning',
  DELETING: 'warning',
};

/** A running cluster, zone or server is well, where a running task is busy. */
const RESOURCE_COLORS: typeof COLORS = { ...COLORS, RUNNING: 'success' };

/** A status as a coloured badge; `resource` for clusters, zones and servers. */
export function Status({ value, resource = false }: { value?: string | null; resource?: boolean }) {
  const colors = resource ? RESOURCE_COLORS : COLORS;
  return <Badge status={colors[value ?? ''] ?? 'default'} text={value ?? '-'} />;
}

/** An ISO timestamp in the browser's time zone. */
export function When({ value }: { value?: string | null }) {
  return <>{value ? new Date(value).toLocaleString() : '-'}</>;
}

/** OCP's alert levels, 1 (most severe) to 5. */
export const LEVELS: Record<number, string> = { 1: 'Stopped', 2: 'Critical', 3: 'Warning', 4: 'Caution', 5: 'Reminder' };
const LEVEL_COLORS: Record<number, string> = { 1: 'red', 2: 'volcano', 3: 'orange', 4: 'gold', 5: 'blue' };

/** An alert level as a coloured tag. */
export function Level({ value }: { value: number }) {
  return <Tag color={LEVEL_COLORS[value]}>{LEVELS[value] ?? value}</Tag>;
}
