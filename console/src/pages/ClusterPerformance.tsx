import { Col, Row, Space, Typography } from '@oceanbase/design';

import type { Cluster } from '../api/types';
import { MetricChart, type ChartSpec } from '../charts/MetricChart';
import { TimeRangeBar } from '../charts/TimeRangeBar';
import { useChartPage } from '../charts/useChartPage';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n/en';

type Spec = Omit<ChartSpec, 'title'> & { title: MessageKey };

const SERVER_CHARTS: Spec[] = [
  { title: 'perf.sessions', metrics: ['ob_session_num', 'ob_active_session_num'] },
  { title: 'perf.qps', metrics: ['ob_sql_qps'], unit: '/s' },
  { title: 'perf.response', metrics: ['ob_sql_avg_response_us'], unit: 'us' },
  { title: 'perf.planCache', metrics: ['ob_plan_cache_hit_percent'], unit: '%' },
  { title: 'perf.memory', metrics: ['ob_process_rss_bytes', 'ob_memory_limit_bytes'], unit: 'byte' },
  { title: 'perf.disk', metrics: ['ob_data_disk_used_bytes', 'ob_log_disk_used_bytes'], unit: 'byte' },
];
const HOST_CHARTS: Spec[] = [
  { title: 'chart.cpu', metrics: ['host_cpu_percent'], unit: '%' },
  { title: 'chart.memory', metrics: ['host_memory_used_percent'], unit: '%' },
];
/** Beyond this many hosts their charts are on the hosts' own pages. */
const MAX_HOSTS = 10;

/** A cluster's performance: its servers' metrics, one series a server, and its hosts'. */
export default function ClusterPerformance({ cluster }: { cluster: Cluster }) {
  const t = useT();
  const { chart, bar } = useChartPage({ last: 3600 }, 30);
  const group = `cluster-${cluster.id}`;
  const ips = [...new Set(cluster.zones.flatMap((z) => z.servers.map((s) => s.ip)))];
  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <TimeRangeBar {...bar} />
      <Row gutter={[16, 16]}>
        {SERVER_CHARTS.map((spec) => (
          <Col key={spec.title} xs={24} lg={12}>
            <MetricChart
              spec={{ ...spec, title: t(spec.title), labels: `ob_cluster_id:${cluster.id}`, groupBy: ['svr_ip', 'ob_server_id'] }}
              group={group}
              {...chart}
            />
          </Col>
        ))}
      </Row>
      <Typography.Title level={5}>{t('perf.hosts')}</Typography.Title>
      <Row gutter={[16, 16]}>
        {ips.slice(0, MAX_HOSTS).flatMap((ip) =>
          HOST_CHARTS.map((spec) => (
            <Col key={`${ip}-${spec.title}`} xs={24} lg={12}>
              <MetricChart
                spec={{ ...spec, title: `${ip} ${t(spec.title)}`, labels: `svr_ip:${ip}`, testId: `chart-${spec.metrics[0]}-${ip}` }}
                group={group}
                height={160}
                {...chart}
              />
            </Col>
          )),
        )}
      </Row>
      {ips.length > MAX_HOSTS && <Typography.Text type="secondary">{t('perf.moreHosts', { n: ips.length - MAX_HOSTS })}</Typography.Text>}
    </Space>
  );
}
