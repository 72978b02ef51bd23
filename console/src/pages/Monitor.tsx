import { Card, Col, Empty, Input, Row, Segmented, Select, Space, Typography } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { get } from '../api/client';
import type { MetricClass, Page } from '../api/types';
import { MetricChart } from '../charts/MetricChart';
import { TimeRangeBar } from '../charts/TimeRangeBar';
import { useChartPage } from '../charts/useChartPage';
import { useT } from '../i18n';

const SCOPES = ['HOST', 'CLUSTER'] as const;
/** Labels the agents put on points, offered for grouping. */
const LABELS = ['svr_ip', 'host_id', 'ob_cluster', 'ob_cluster_id', 'ob_server_id', 'mount', 'device', 'process', 'app'];

/** The metric explorer: metrics from the catalogue, filters, grouping, range and refresh. */
export default function Monitor() {
  const t = useT();
  const [scope, setScope] = useState<(typeof SCOPES)[number]>('HOST');
  const [metrics, setMetrics] = useState<string[]>([]);
  const [labels, setLabels] = useState('');
  const [groupBy, setGroupBy] = useState<string[]>(['svr_ip']);
  const { chart, bar } = useChartPage({ last: 3600 }, 30);
  const catalog = useQuery({
    queryKey: ['metric-catalog', scope],
    queryFn: () => get<Page<MetricClass>>(`/api/v2/monitor/metricGroups?scope=${scope}&size=100`),
  });
  const known = (catalog.data?.contents ?? []).flatMap((c) => c.metricGroups.flatMap((g) => g.metrics.map((m) => ({ ...m, group: g.name }))));
  const options = (catalog.data?.contents ?? []).flatMap((c) =>
    c.metricGroups.map((g) => ({
      label: g.name,
      options: g.metrics.map((m) => ({ value: m.key, label: `${m.name} (${m.key})` })),
    })),
  );
  return (
    <Card title={t('nav.monitor')}>
      <Space direction="vertical" size={16} style={{ width: '100%' }}>
        <Space wrap>
          <Segmented
            options={SCOPES.map((s) => ({ value: s, label: t(s === 'HOST' ? 'monitor.hosts' : 'monitor.servers') }))}
            value={scope}
            onChange={(v) => {
              setScope(v as (typeof SCOPES)[number]);
              setMetrics([]);
            }}
          />
          <Select
            mode="multiple"
            allowClear
            placeholder={t('monitor.metrics')}
            style={{ minWidth: 420 }}
            value={metrics}
            onChange={setMetrics}
            options={options}
            data-testid="metric-picker"
          />
        </Space>
        <Space wrap>
          <Typography.Text type="secondary">{t('monitor.filter')}</Typography.Text>
          <Input.Search placeholder="svr_ip:10.0.0.1,mount:/" allowClear style={{ width: 300 }} onSearch={setLabels} />
          <Typography.Text type="secondary">{t('monitor.groupBy')}</Typography.Text>
          <Select mode="multiple" style={{ minWidth: 240 }} value={groupBy} onChange={setGroupBy} options={LABELS.map((l) => ({ value: l, label: l }))} />
        </Space>
        <TimeRangeBar {...bar} />
        {metrics.length === 0 ? (
          <Empty description={t('monitor.pick')} />
        ) : (
          <Row gutter={[16, 16]}>
            {metrics.map((key) => {
              const meta = known.find((m) => m.key === key);
              return (
                <Col key={key} xs={24} xl={12}>
                  <MetricChart
                    spec={{ title: meta ? `${meta.group}: ${meta.name}` : key, metrics: [key], unit: meta?.unit, labels, groupBy }}
                    group="monitor"
                    {...chart}
                  />
                </Col>
              );
            })}
          </Row>
        )}
      </Space>
    </Card>
  );
}
