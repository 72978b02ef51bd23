import { Spin } from '@oceanbase/design';
import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes as RouterRoutes, useLocation } from 'react-router-dom';

import { Shell } from './layout/Shell';
import { Login } from './pages/Login';
import { useSession } from './session';

// Pages past the overview load when first opened.
const Overview = lazy(() => import('./pages/Overview'));
const Hosts = lazy(() => import('./pages/Hosts'));
const Host = lazy(() => import('./pages/Host'));
const Tasks = lazy(() => import('./pages/Tasks'));
const Task = lazy(() => import('./pages/Task'));
const Clusters = lazy(() => import('./pages/Clusters'));
const ClusterCreate = lazy(() => import('./pages/ClusterCreate'));
const Cluster = lazy(() => import('./pages/Cluster'));
const Alerts = lazy(() => import('./pages/Alerts'));
const Monitor = lazy(() => import('./pages/Monitor'));
const Packages = lazy(() => import('./pages/Packages'));
const Users = lazy(() => import('./pages/Users'));
const Account = lazy(() => import('./pages/Account'));

function Loading() {
  return <Spin style={{ display: 'block', margin: '20vh auto' }} />;
}

export function Routes() {
  const { info, loading } = useSession();
  const location = useLocation();
  if (loading) {
    return <Loading />;
  }
  if (!info) {
    return location.pathname === '/login' ? (
      <Login />
    ) : (
      <Navigate to="/login" replace state={{ from: location.pathname }} />
    );
  }
  return (
    <Shell>
      <Suspense fallback={<Loading />}>
        <RouterRoutes>
          <Route path="/" element={<Navigate to="/overview" replace />} />
          <Route path="/login" element={<Navigate to="/overview" replace />} />
          <Route path="/overview" element={<Overview />} />
          <Route path="/hosts" element={<Hosts />} />
          <Route path="/hosts/:id" element={<Host />} />
          <Route path="/tasks" element={<Tasks />} />
          <Route path="/tasks/:id" element={<Task />} />
          <Route path="/clusters" element={<Clusters />} />
          <Route path="/clusters/new" element={<ClusterCreate />} />
          <Route path="/clusters/:id" element={<Cluster />} />
          <Route path="/alerts" element={<Alerts />} />
          <Route path="/alerts/:tab" element={<Alerts />} />
          <Route path="/monitor" element={<Monitor />} />
          <Route path="/packages" element={<Packages />} />
          <Route path="/users" element={<Users />} />
          <Route path="/account" element={<Account />} />
          <Route path="*" element={<Navigate to="/overview" replace />} />
        </RouterRoutes>
      </Suspense>
    </Shell>
  );
}
