import { Card, Tabs } from '@oceanbase/design';
import { lazy, Suspense, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router-dom';

import { useT } from '../i18n';
import { Events } from './alerts/Events';

const Items = lazy(() => import('./alerts/Items'));
const Channels = lazy(() => import('./alerts/Channels'));
const Subscriptions = lazy(() => import('./alerts/Subscriptions'));
const Silencers = lazy(() => import('./alerts/Silencers'));
const Notifications = lazy(() => import('./alerts/Notifications'));

const tab = (page: ReactNode) => <Suspense fallback={null}>{page}</Suspense>;

/** Alerts: events, items, channels, subscriptions, blocking conditions, notifications. */
export default function Alerts() {
  const t = useT();
  const navigate = useNavigate();
  const { tab: current = 'events' } = useParams();
  return (
    <Card title={t('nav.alerts')}>
      <Tabs
        activeKey={current}
        onChange={(key) => navigate(`/alerts/${key}`)}
        destroyInactiveTabPane
        items={[
          { key: 'events', label: t('alert.events'), children: <Events /> },
          { key: 'items', label: t('alert.items'), children: tab(<Items />) },
          { key: 'channels', label: t('alert.channels'), children: tab(<Channels />) },
          { key: 'subscriptions', label: t('alert.subscriptions'), children: tab(<Subscriptions />) },
          { key: 'silencers', label: t('alert.silencers'), children: tab(<Silencers />) },
          { key: 'notifications', label: t('alert.notifications'), children: tab(<Notifications />) },
        ]}
      />
    </Card>
  );
}
