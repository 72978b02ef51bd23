import { Dropdown, Layout, Menu, Space, Typography } from '@oceanbase/design';
import type { ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';

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
