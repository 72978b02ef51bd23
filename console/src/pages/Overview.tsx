import { Alert, Card, Col, Flex, Row, Spin, Statistic, Tag, Typography } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';

import { get, query } from '../api/client';
import type { Alarm, BasicTaskInstance, Cluster, Host, Page } from '../api/types';
import { useT } from '../i18n';
import { useSession } from '../session';
import { LEVELS, Status, When } from './status';

const HOST_STATUSES = ['AVAILABLE', 'ONLINE', 'OFFLINE', 'NEW'] as const;
const ROW = { padding: '8px 0', borderBottom: '1px solid rgba(5, 5, 5, 0.06)' };

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) {
    counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  }
  return [...counts.entries()].sort();
}

function Counts({ title, counts, testId }: { title: string; counts: [string, number][]; testId: string }) {
  const t = useT();
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  return (
    <Card title={title} data-testid={testId}>
      <Statistic value={total} />
      <div style={{ marginTop: 8, minHeight: 24 }}>
        {counts.length === 0 && t('common.none')}
        {counts.map(([status, n]) => (
          <Tag key={status}>
            {status} {n}
          </Tag>
        ))}
      </div>
    </Card>
  );
}

/** Counts by status of what the platform runs, open alerts, and the latest tasks. */
export default function Overview() {
  const t = useT();
  const { may } = useSession();
  // Lists page on the server; one page holds every cluster (500) and open alert (200) an
  // overview counts.
  const hosts = useQuery({
    queryKey: ['overview', 'hosts'],
    enabled: may('HOST:*:READ'),
    queryFn: async () => {
      const pages = await Promise.all(
        HOST_STATUSES.map((status) => get<Page<Host>>(`/api/v2/compute/hosts${query({ status, size: 1 })}`)),
      );
      return HOST_STATUSES.map((s, i) => [s, pages[i].page.totalElements] as [string, number]).filter(
        ([, n]) => n > 0,
      );
    },
  });
  const clusters = useQuery({
    queryKey: ['overview', 'clusters'],
    enabled: may('CLUSTER:*:READ'),
    queryFn: () => get<Page<Cluster>>(`/api/v2/ob/clusters${query({ size: 500 })}`),
  });
  const tasks = useQuery({
    queryKey: ['overview', 'tasks'],
    enabled: may('TASK:*:READ'),
    queryFn: async () => {
      const [running, failed, latest] = await Promise.all([
        get<Page<BasicTaskInstance>>(`/api/v2/tasks/instances${query({ status: 'RUNNING', size: 1 })}`),
        get<Page<BasicTaskInstance>>(`/api/v2/tasks/instances${query({ status: 'FAILED', size: 1 })}`),
        get<Page<BasicTaskInstance>>(`/api/v2/tasks/instances${query({ size: 10, sort: 'id,desc' })}`),
      ]);
      return { running: running.page.totalElements, failed: failed.page.totalElements, latest: latest.contents };
    },
  });
  const alarms = useQuery({
    queryKey: ['overview', 'alarms'],
    enabled: may('ALARM:*:READ'),
    queryFn: () => get<Page<Alarm>>(`/api/v2/alarm/alarms${query({ status: 'Active', size: 200 })}`),
  });
  const failure = [hosts, clusters, tasks, alarms].find((q) => q.error)?.error;
  const servers = (clusters.data?.contents ?? []).flatMap((c) => c.zones.flatMap((z) => z.servers));

  return (
    <div data-testid="overview">
      {failure && (
        <Alert type="error" showIcon style={{ marginBottom: 16 }} message={t('common.loadFailed', { message: failure.message })} />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Counts testId="overview-hosts" title={t('overview.hosts')} counts={hosts.data ?? []} />
        </Col>
        <Col xs={24} md={8}>
          <Counts
            testId="overview-clusters"
            title={t('overview.clusters')}
            counts={countBy(clusters.data?.contents ?? [], (c) => c.status)}
          />
        </Col>
        <Col xs={24} md={8}>
          <Counts testId="overview-servers" title={t('overview.servers')} counts={countBy(servers, (s) => s.status)} />
        </Col>
        <Col xs={24} md={8}>
          <Card title={t('overview.runningTasks')} data-testid="overview-running">
            <Statistic value={tasks.data?.running ?? 0} />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card title={t('overview.failedTasks')} data-testid="overview-failed">
            <Statistic value={tasks.data?.failed ?? 0} valueStyle={tasks.data?.failed ? { color: '#f5222d' } : undefined} />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Counts
            testId="overview-alarms"
            title={t('overview.openAlerts')}
            counts={countBy(alarms.data?.contents ?? [], (a) => LEVELS[a.level] ?? String(a.level))}
          />
        </Col>
        <Col span={24}>
          <Card title={t('overview.latestTasks')}>
            {/* Rows of their own, not a table or a list: the overview is the first page,
                and those would load half as much JavaScript again (their paging). */}
            <div data-testid="overview-latest">
              {tasks.isLoading && <Spin />}
              {tasks.data?.latest.length === 0 && <Typography.Text type="secondary">{t('common.none')}</Typography.Text>}
              {tasks.data?.latest.map((task) => (
                <Flex key={task.id} justify="space-between" gap={16} style={ROW}>
                  <Link to={`/tasks/${task.id}`}>
                    #{task.id} {task.name}
                  </Link>
                  <Flex gap={24} style={{ flex: 'none' }}>
                    <Status value={task.status} />
                    <Typography.Text type="secondary">
                      <When value={task.startTime} />
                    </Typography.Text>
                  </Flex>
                </Flex>
              ))}
            </div>
          </Card>
        </Col>
      </Row>
    </div>
  );
}
