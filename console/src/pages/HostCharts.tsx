import { Card, Col, Row } from '@oceanbase/design';

import { MetricChart, type ChartSpec } from '../charts/MetricChart';
import { TimeRangeBar } from '../charts/TimeRangeBar';
import { useChartPage } from '../charts/useChartPage';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n/en';

const CHARTS: (Omit<ChartSpec, 'title'> & { title: MessageKey })[] = [
  { title: 'chart.cpu', metrics: ['host_cpu_percent'], unit: '%' },
  { title: 'chart.memory', metrics: ['host_memory_used_percent'], unit: '%' },
  { title: 'chart.load', metrics: ['host_load1', 'host_load5', 'host_load15'] },
  { title: 'chart.disk', metrics: ['host_disk_used_percent'], groupBy: ['mount'], unit: '%' },
  { title: 'chart.netIn', metrics: ['host_net_recv_bytes_per_second'], groupBy: ['device'], unit: 'B/s' },
  { title: 'chart.netOut', metrics: ['host_net_send_bytes_per_second'], groupBy: ['device'], unit: 'B/s' },
];

/** A host's metrics over a chosen range (new points arrive every 10 s). */
export default function HostCharts({ ip }: { ip: string }) {
  const t = useT();
  const { chart, bar } = useChartPage({ last: 3600 }, 10);
  return (
    <Card title={t('chart.metrics')} extra={<TimeRangeBar {...bar} />}>
      <Row gutter={[16, 16]}>
        {CHARTS.map((spec) => (
          <Col key={spec.title} xs={24} lg={12}>
            <MetricChart spec={{ ...spec, title: t(spec.title), labels: `svr_ip:${ip}` }} group={`host-${ip}`} {...chart} />
          </Col>
        ))}
      </Row>
    </Card>
  );
}
