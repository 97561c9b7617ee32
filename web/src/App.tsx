import { Center, Loader } from '@mantine/core';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { OrgShell } from './components/OrgShell';
import { ApiTokensPage } from './pages/ApiTokensPage';
import { AuditPage } from './pages/AuditPage';
import { AutomationPage } from './pages/AutomationPage';
import { DomainsPage } from './pages/DomainsPage';
import { EntraSettingsPage } from './pages/EntraSettingsPage';
import { GroupPage, GroupsPage } from './pages/GroupsPage';
import { HistoryPage, RunPage } from './pages/HistoryPage';
import { MePage } from './pages/MePage';
import { OrgsPage } from './pages/OrgsPage';
import { OverviewPage } from './pages/OverviewPage';
import { ServiceOverviewPage } from './pages/ServiceOverviewPage';
import { SignInPage } from './pages/SignInPage';
import { SyncPage } from './pages/SyncPage';
import { UserPage, UsersPage } from './pages/UsersPage';
import { homeOf, useSession } from './session';

/** The console's routes; everything but the sign-in page needs a session. */
export function App() {
  const { session } = useSession();
  const location = useLocation();
  if (session === undefined) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!session) {
    return (
      <Routes>
        <Route path="/sign-in" element={<SignInPage />} />
        <Route
          path="*"
          element={<Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />}
        />
      </Routes>
    );
  }
  const p = session.principal;
  // End users have one page, their own profile; the organization's pages are for its admins.
  if (p.type === 'user' && p.role !== 'org_admin') {
    return (
      <Routes>
        <Route path="/me" element={<MePage />} />
        <Route path="*" element={<Navigate to="/me" replace />} />
      </Routes>
    );
  }
  return (
    <Routes>
      <Route path="/sign-in" element={<Navigate to={homeOf(session)} replace />} />
      <Route path="/me" element={<MePage />} />
      <Route path="/orgs" element={<OrgShell />}>
        <Route index element={<OrgsPage />} />
      </Route>
      <Route path="/service-overview" element={<OrgShell />}>
        <Route index element={<ServiceOverviewPage />} />
      </Route>
      <Route path="/orgs/:org" element={<OrgShell />}>
        <Route index element={<Navigate to="overview" replace />} />
        <Route path="overview" element={<OverviewPage />} />
        <Route path="users" element={<UsersPage />} />
        <Route path="users/:id" element={<UserPage />} />
        <Route path="groups" element={<GroupsPage />} />
        <Route path="groups/:id" element={<GroupPage />} />
        <Route path="domains" element={<DomainsPage />} />
        <Route path="settings/import-users/azure-ad" element={<EntraSettingsPage />} />
        <Route path="settings/users-groups/azure-ad-sync" element={<SyncPage />} />
        <Route path="settings/automation" element={<AutomationPage />} />
        <Route path="history" element={<HistoryPage />} />
        <Route path="history/:runId" element={<RunPage />} />
        <Route path="api-tokens" element={<ApiTokensPage />} />
        <Route path="audit" element={<AuditPage />} />
      </Route>
      <Route path="*" element={<Navigate to={homeOf(session)} replace />} />
    </Routes>
  );
}
