import { Card, Empty } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef } from 'react';

import { get, query } from '../api/client';
import { useT } from '../i18n';
import { autoInterval, ends, type TimeRange } from './range';

echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

/** One group of a `metricsWithLabel` answer: its label values and its points. */
type Group = Record<string, unknown> & { data: ({ timestamp: number } & Record<string, number>)[] };

export interface ChartSpec {
  title: string;
  metrics: string[];
  /** Labels whose values name the series (mount, server); else one series a metric. */
  groupBy?: string[];
  /** `name:value` filters, comma-separated. */
  labels?: string;
  unit?: string;
  testId?: string;
}

/** Names the value for a tooltip: 1.2 k, 3.4 MiB for bytes, with the unit. */
function show(value: number, unit?: string): string {
  if (unit === 'byte' || unit === 'B/s') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = value;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i += 1;
    }
    return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}${unit === 'B/s' ? '/s' : ''}`;
  }
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

/**
 * A line chart of metrics over the page's range: the legend toggles series, the tooltip shows
 * values with their unit, and the charts of one `group` share a crosshair.
 */
export function MetricChart({
  spec,
  range,
  interval,
  refresh,
  group,
  height = 220,
}: {
  spec: ChartSpec;
  range: TimeRange;
  interval: number | null;
  refresh: number;
  group: string;
  height?: number;
}) {
  const t = useT();
  const element = useRef<HTMLDivElement>(null);
  const step = interval ?? autoInterval(range);
  const groupBy = spec.groupBy ?? [];
  const moving = 'last' in range;
  const series = useQuery({
    queryKey: ['metrics', spec.metrics, groupBy, spec.labels, range, step],
    refetchInterval: moving && refresh > 0 ? refresh * 1000 : false,
    queryFn: () => {
      const { start, end } = ends(range);
      return get<{ contents: Group[] }>(
        `/api/v2/monitor/metricsWithLabel${query({
          startTime: new Date(start).toISOString(),
          endTime: new Date(end).toISOString(),
          metrics: spec.metrics.join(','),
          groupBy: groupBy.join(','),
          interval: step,
          labels: spec.labels,
        })}`,
      );
    },
  });
  const groups = useMemo(() => series.data?.contents ?? [], [series.data]);
  const points = groups.reduce((n, g) => n + g.data.length, 0);
  // Pages build their specs as they render: the chart is redrawn when one differs, not when
  // it is a new object.
  const specKey = JSON.stringify(spec);

  useEffect(() => {
    if (!element.current || points === 0) return;
    const chart = echarts.init(element.current);
    chart.group = group;
    echarts.connect(group);
    const name = (g: Group, metric: string) => {
      const labels = groupBy.map((l) => String(g[l] ?? '')).join(' ');
      return spec.metrics.length > 1 ? `${labels} ${metric}`.trim() : labels || metric;
    };
    const { start, end } = ends(range);
    chart.setOption({
      animation: false,
      grid: { left: 56, right: 16, top: 36, bottom: 24 },
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'cross', label: { show: false } },
        valueFormatter: (v: number) => show(v, spec.unit),
      },
      legend: { top: 0, type: 'scroll' },
      xAxis: { type: 'time', min: start, max: end, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => show(v, spec.unit) } },
      series: groups.flatMap((g) =>
        spec.metrics.map((metric) => ({
          name: name(g, metric),
          type: 'line' as const,
          // A line of one or two points would not show: mark the points until there are more.
          showSymbol: g.data.length < 3,
          sampling: 'lttb' as const,
          data: g.data
            .filter((p) => p[metric] !== undefined)
            .map((p) => [p.timestamp < 1e12 ? p.timestamp * 1000 : p.timestamp, p[metric]]),
        })),
      ),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
    // `spec` and `groupBy` are what `specKey` says.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [groups, points, specKey, range, group]);

  return (
    <Card title={spec.title} size="small" data-testid={spec.testId ?? `chart-${spec.metrics[0]}`} data-points={points} data-series={groups.length}>
      {series.error ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={series.error.message} style={{ height }} />
      ) : points === 0 && !series.isLoading ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('chart.noData')} style={{ height }} />
      ) : (
        <div ref={element} style={{ height }} />
      )}
    </Card>
  );
}
