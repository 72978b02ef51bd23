import { DatePicker, Segmented, Select, Space, Typography } from '@oceanbase/design';

import { useT } from '../i18n';
import { LAST_RANGES, type TimeRange } from './range';

export const REFRESH_CHOICES = [0, 10, 30, 60];

/** The range, the interval and the auto-refresh of every chart of a page. */
export function TimeRangeBar({
  range,
  onRange,
  interval,
  onInterval,
  refresh,
  onRefresh,
}: {
  range: TimeRange;
  onRange: (range: TimeRange) => void;
  interval: number | null;
  onInterval: (seconds: number | null) => void;
  refresh: number;
  onRefresh: (seconds: number) => void;
}) {
  const t = useT();
  return (
    <Space wrap data-testid="time-range">
      <Segmented
        options={[...LAST_RANGES.map((r) => ({ value: r.seconds, label: r.label })), { value: 0, label: t('chart.custom') }]}
        value={'last' in range ? range.last : 0}
        onChange={(v) => onRange(Number(v) > 0 ? { last: Number(v) } : { start: Date.now() - 3600_000, end: Date.now() })}
      />
      {!('last' in range) && (
        <DatePicker.RangePicker
          showTime
          onChange={(r) => r?.[0] && r[1] && onRange({ start: r[0].valueOf(), end: r[1].valueOf() })}
        />
      )}
      <Typography.Text type="secondary">{t('chart.interval')}</Typography.Text>
      <Select
        style={{ width: 100 }}
        value={interval ?? 0}
        onChange={(v: number) => onInterval(v === 0 ? null : v)}
        options={[{ value: 0, label: t('chart.auto') }, ...[10, 60, 300, 600, 3600].map((s) => ({ value: s, label: `${s} s` }))]}
      />
      <Typography.Text type="secondary">{t('chart.refresh')}</Typography.Text>
      <Select
        style={{ width: 110 }}
        value={refresh}
        onChange={onRefresh}
        data-testid="auto-refresh"
        options={REFRESH_CHOICES.map((s) => ({ value: s, label: s === 0 ? t('chart.paused') : `${s} s` }))}
      />
    </Space>
  );
}
