import { Badge } from '@oceanbase/design';

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
  DELETING: 'warning',
};

/** A status as a coloured badge. */
export function Status({ value }: { value?: string | null }) {
  return <Badge status={COLORS[value ?? ''] ?? 'default'} text={value ?? '-'} />;
}

/** An ISO timestamp in the browser's time zone. */
export function When({ value }: { value?: string | null }) {
  return <>{value ? new Date(value).toLocaleString() : '-'}</>;
}
