import { Dropdown, Flex, Layout, Menu, Space, Tag, Tooltip, Typography } from '@oceanbase/design';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';

import { get } from '../api/client';
import type { Alarm, Page } from '../api/types';
import { LEVELS } from '../pages/status';

import { useI18n, type Language } from '../i18n';
import { useSession } from '../session';

const LANGUAGES: { key: Language; label: string }[] = [
  { key: 'en-US', label: 'English' },
  { key: 'zh-CN', label: '简体中文' },
];

/** The layout around every page: navigation, the user menu and the language switch. */
export function Shell({ children }: { children: ReactNode }) {
  const { t, language, setLanguage } = useI18n();
  const { info, may, logout } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const items = [
    { key: '/overview', label: t('nav.overview'), show: true },
    { key: '/hosts', label: t('nav.hosts'), show: may('HOST:*:READ') },
    { key: '/clusters', label: t('nav.clusters'), show: may('CLUSTER:*:READ') },
    { key: '/tasks', label: t('nav.tasks'), show: may('TASK:*:READ') },
    { key: '/monitor', label: t('nav.monitor'), show: may('HOST:*:READ') },
    { key: '/alerts', label: t('nav.alerts'), show: may('ALARM:*:READ') },
    { key: '/packages', label: t('nav.packages'), show: may('PACKAGE:*:READ') },
    { key: '/users', label: t('nav.users'), show: may('USER:*:READ') },
  ].filter((i) => i.show);
  const selected = items.find((i) => location.pathname.startsWith(i.key))?.key;

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider width={208} theme="light" style={{ borderRight: '1px solid #e8e8e8' }}>
        <Typography.Title level={4} style={{ padding: '16px 24px', margin: 0 }}>
          {t('app.short')}
        </Typography.Title>
        <Menu
          mode="inline"
          selectedKeys={selected ? [selected] : []}
          items={items.map(({ key, label }) => ({ key, label }))}
          onClick={({ key }) => navigate(key)}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: '#fff',
            display: 'flex',
            justifyContent: 'flex-end',
            alignItems: 'center',
            gap: 24,
            padding: '0 24px',
            borderBottom: '1px solid #e8e8e8',
          }}
        >
          {may('ALARM:*:READ') && <OpenAlerts />}
          <Dropdown
            menu={{
              items: LANGUAGES.map((l) => ({ key: l.key, label: l.label })),
              selectedKeys: [language],
              onClick: ({ key }) => setLanguage(key as Language),
            }}
          >
            <a data-testid="language">{LANGUAGES.find((l) => l.key === language)?.label}</a>
          </Dropdown>
          <Dropdown
            menu={{
              items: [
                { key: 'account', label: t('user.account') },
                { key: 'logout', label: t('user.logout') },
              ],
              onClick: ({ key }) => {
                if (key === 'account') {
                  navigate('/account');
                } else if (key === 'logout') {
                  void logout().then(() => navigate('/login', { replace: true }));
                }
              },
            }}
          >
            <Space data-testid="user-menu">{info?.username}</Space>
          </Dropdown>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }}>{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}

const LEVEL_TAGS = [
  { level: 1, color: 'red' },
  { level: 2, color: 'volcano' },
  { level: 3, color: 'orange' },
  { level: 4, color: 'gold' },
  { level: 5, color: 'blue' },
];

/** The open alerts by level, on every page; each count opens the events of its level. */
function OpenAlerts() {
  const t = useI18n().t;
  // One small page per level answers its count; every 30 s is often enough for a header.
  const counts = useQuery({
    queryKey: ['alert-counts'],
    refetchInterval: 30_000,
    queryFn: () =>
      Promise.all(
        LEVEL_TAGS.map(({ level }) =>
          get<Page<Alarm>>(`/api/v2/alarm/alarms?status=Active&level=${level}&size=1`).then((p) => p.page.totalElements),
        ),
      ),
  });
  return (
    <Flex align="center" gap={4} data-testid="open-alerts" style={{ lineHeight: 1 }}>
      <Typography.Text type="secondary">{t('alert.open')}</Typography.Text>
      {LEVEL_TAGS.map(({ level, color }, i) => (
        <Tooltip key={level} title={LEVELS[level]}>
          <Link to="/alerts/events">
            <Tag color={color} bordered={false} data-testid={`open-alerts-${level}`} style={{ marginInlineEnd: 0, opacity: (counts.data?.[i] ?? 0) > 0 ? 1 : 0.45 }}>
              {counts.data?.[i] ?? 0}
            </Tag>
          </Link>
        </Tooltip>
      ))}
    </Flex>
  );
}
