import { Card, Col, Empty, Row, Segmented } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef, useState } from 'react';

import { get, query } from '../api/client';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n/en';

echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

/** One group of a `metricsWithLabel` answer: its label values and its points. */
type Group = Record<string, unknown> & { data: ({ timestamp: number } & Record<string, number>)[] };

interface ChartSpec {
  title: MessageKey;
  metrics: string[];
  /** A label whose values become the series (mount, interface); else one series a metric. */
  groupBy?: string;
  unit?: string;
}

const CHARTS: ChartSpec[] = [
  { title: 'chart.cpu', metrics: ['host_cpu_percent'], unit: '%' },
  { title: 'chart.memory', metrics: ['host_memory_used_percent'], unit: '%' },
  { title: 'chart.load', metrics: ['host_load1', 'host_load5', 'host_load15'] },
  { title: 'chart.disk', metrics: ['host_disk_used_percent'], groupBy: 'mount', unit: '%' },
  { title: 'chart.netIn', metrics: ['host_net_recv_bytes_per_second'], groupBy: 'interface', unit: 'B/s' },
  { title: 'chart.netOut', metrics: ['host_net_send_bytes_per_second'], groupBy: 'interface', unit: 'B/s' },
];

const RANGES = [
  { value: 3600, label: '1h', interval: 60 },
  { value: 6 * 3600, label: '6h', interval: 300 },
  { value: 24 * 3600, label: '24h', interval: 600 },
];

function Chart({ spec, ip, range }: { spec: ChartSpec; ip: string; range: (typeof RANGES)[number] }) {
  const t = useT();
  const element = useRef<HTMLDivElement>(null);
  const groupBy = spec.groupBy ?? 'svr_ip';
  const series = useQuery({
    queryKey: ['metrics', ip, spec.metrics, groupBy, range.value],
    // New points arrive every 10 s; one read a minute is plenty once there are some, and one
    // every 5 s until the first arrive (a host that just joined).
    refetchInterval: (q) => ((q.state.data?.contents ?? []).some((g) => g.data.length > 0) ? 60_000 : 5_000),
    queryFn: () => {
      const end = new Date();
      const start = new Date(end.getTime() - range.value * 1000);
      return get<{ contents: Group[] }>(
        `/api/v2/monitor/metricsWithLabel${query({
          startTime: start.toISOString(),
          endTime: end.toISOString(),
          metrics: spec.metrics.join(','),
          groupBy,
          interval: range.interval,
          labels: `svr_ip:${ip}`,
        })}`,
      );
    },
  });
  const groups = useMemo(() => series.data?.contents ?? [], [series.data]);
  const points = groups.reduce((n, g) => n + g.data.length, 0);

  useEffect(() => {
    if (!element.current || points === 0) return;
    const chart = echarts.init(element.current);
    const lines = groups.flatMap((g) =>
      spec.metrics.map((metric) => ({
        name: spec.groupBy ? String(g[spec.groupBy]) : metric,
        type: 'line' as const,
        // A line of one or two points would not show: mark the points until there are more.
        showSymbol: g.data.length < 3,
        data: g.data
          .filter((p) => p[metric] !== undefined)
          .map((p) => [p.timestamp < 1e12 ? p.timestamp * 1000 : p.timestamp, p[metric]]),
      })),
    );
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 32, bottom: 24 },
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      xAxis: {
        type: 'time',
        min: Date.now() - range.value * 1000,
        max: Date.now(),
        axisLabel: { hideOverlap: true },
      },
      yAxis: { type: 'value', name: spec.unit, nameGap: 8 },
      series: lines,
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [groups, points, spec, range]);

  return (
    <Card title={t(spec.title)} size="small" data-testid={`chart-${spec.metrics[0]}`} data-points={points}>
      {points === 0 && !series.isLoading ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('chart.noData')} style={{ height: 200 }} />
      ) : (
        <div ref={element} style={{ height: 200 }} />
      )}
    </Card>
  );
}

/** A host's metrics over a chosen range. */
export default function HostCharts({ ip }: { ip: string }) {
  const t = useT();
  const [range, setRange] = useState(RANGES[0]);
  return (
    <Card
      title={t('chart.metrics')}
      extra={
        <Segmented
          options={RANGES.map((r) => ({ value: r.value, label: r.label }))}
          value={range.value}
          onChange={(v) => setRange(RANGES.find((r) => r.value === v) ?? RANGES[0])}
        />
      }
    >
      <Row gutter={[16, 16]}>
        {CHARTS.map((spec) => (
          <Col key={spec.title} xs={24} lg={12}>
            <Chart spec={spec} ip={ip} range={range} />
          </Col>
        ))}
      </Row>
    </Card>
  );
}
