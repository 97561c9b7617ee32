import { AppShell, Burger, Group, NavLink, ScrollArea, Select, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { Link, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { api } from '../api/client';
import { keys } from '../api/keys';
import type { Organization } from '../api/types';
import { useSession } from '../session';
import { ErrorAlert, Loading } from './common';
import { NotificationsButton } from './Notifications';
import { SignOutButtons } from './SignOutButtons';

/** The pages of one organization, in the order of the product's menus. */
const NAV: Array<{ label: string; path: string } | { section: string }> = [
  { label: 'Overview', path: 'overview' },
  { label: 'Users', path: 'users' },
  { label: 'Groups', path: 'groups' },
  { label: 'Domains', path: 'domains' },
  { section: 'Company Settings' },
  { label: 'Import Users → Azure Active Directory', path: 'settings/import-users/azure-ad' },
  { label: 'Users & Groups → Azure Active Directory Sync', path: 'settings/users-groups/azure-ad-sync' },
  { label: 'Automatic sync', path: 'settings/automation' },
  { label: 'Sync history', path: 'history' },
  { section: 'Administration' },
  { label: 'API tokens', path: 'api-tokens' },
  { label: 'Audit log', path: 'audit' },
];

/** Header (organization switcher, sign-out), the organization's menu, and the page. */
export function OrgShell() {
  const { session } = useSession();
  const { org } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure();
  const principal = session?.principal;
  const isOperator = principal?.type === 'operator';

  const orgs = useQuery({
    queryKey: keys.orgs,
    queryFn: () => api<Organization[]>('GET', '/orgs'),
    enabled: isOperator,
  });
  const current = useQuery({
    queryKey: keys.organization(org ?? ''),
    queryFn: () => api<Organization>('GET', `/orgs/${encodeURIComponent(org!)}`),
    enabled: Boolean(org),
  });

  // Keep the same page when switching organizations, so comparing two is one click.
  const switchTo = (id: string | null) => {
    if (!id) return navigate('/orgs');
    const rest = org ? location.pathname.split('/').slice(3) : [];
    // A user, group or run of one organization means nothing in another: go to its list.
    const page = ['users', 'groups', 'history'].includes(rest[0] ?? '') ? rest[0] : rest.join('/');
    navigate(`/orgs/${id}/${page || 'overview'}`);
  };

  return (
    <>
      {/* The first Tab stop: past the header and the menu, straight to the page. */}
      {/* biome-ignore lint/a11y/useValidAnchor: a link to #main, whose click only moves focus, so the router's URL gains no #main */}
      <a
        href="#main"
        className="skip-link"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to main content
      </a>
      <AppShell
        header={{ height: 60 }}
        navbar={{ width: 300, breakpoint: 'sm', collapsed: { mobile: !opened } }}
        padding="md"
      >
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group wrap="nowrap" gap="sm" miw={0}>
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle menu" />
              <Title order={2} size="h4">
                entrasync
              </Title>
              {isOperator ? (
                <Select
                  aria-label="Organization"
                  placeholder="Choose an organization"
                  data={(orgs.data ?? []).map((o) => ({ value: o.id, label: o.name }))}
                  value={org ?? null}
                  onChange={switchTo}
                  searchable
                  clearable
                  w={{ base: 150, sm: 240 }}
                />
              ) : (
                <Text fw={500} truncate miw={0}>
                  {current.data?.name}
                </Text>
              )}
            </Group>
            <Group wrap="nowrap" gap="sm">
              {org && current.data && <NotificationsButton org={org} />}
              <Text size="sm" c="dimmed" visibleFrom="sm">
                {principal && 'email' in principal ? principal.email : ''}
              </Text>
              {/* On a phone the header has no room for them: they are at the end of the menu. */}
              <Group wrap="nowrap" gap="sm" visibleFrom="sm">
                <SignOutButtons size="xs" />
              </Group>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" aria-label="Main menu">
          <ScrollArea>
            {isOperator && (
              <>
                <NavLink
                  component={Link}
                  to="/orgs"
                  label="All organizations"
                  active={location.pathname === '/orgs'}
                  onClick={close}
                />
                <NavLink
                  component={Link}
                  to="/service-overview"
                  label="Service overview"
                  active={location.pathname === '/service-overview'}
                  onClick={close}
                />
              </>
            )}
            {org &&
              NAV.map((item) =>
                'section' in item ? (
                  <Text
                    key={item.section}
                    size="xs"
                    fw={700}
                    c="dimmed"
                    tt="uppercase"
                    mt="md"
                    mb={4}
                    px="sm"
                  >
                    {item.section}
                  </Text>
                ) : (
                  <NavLink
                    key={item.path}
                    component={Link}
                    to={`/orgs/${org}/${item.path}`}
                    label={item.label}
                    active={location.pathname.startsWith(`/orgs/${org}/${item.path}`)}
                    onClick={close}
                  />
                ),
              )}
            <Stack gap="xs" mt="lg" px="sm" hiddenFrom="sm">
              <SignOutButtons size="xs" />
            </Stack>
          </ScrollArea>
        </AppShell.Navbar>
        <AppShell.Main id="main" tabIndex={-1}>
          {org && current.isPending ? (
            <Loading />
          ) : org && current.error ? (
            <ErrorAlert error={current.error} />
          ) : (
            <Outlet />
          )}
        </AppShell.Main>
      </AppShell>
    </>
  );
}
