// Route-level code splitting: every page is its own chunk, fetched when its route is shown
// (students and teachers never download the admin console). `preloadRoute` starts the current
// route's chunk at boot, in parallel with `/api/me`, instead of after it.
//
// A page whose chunk has arrived renders at once, without suspending: React throttles the
// reveal of a Suspense boundary to 300 ms after its fallback showed, so suspending on an
// already-loaded chunk (which `React.lazy` does on its first render) cost every first page
// ~300 ms (issue 18: measured 1.17 s -> 1.51 s between `/api/me` and the page's own request).
import { createElement, lazy, type ComponentType } from 'react';
import type { RouteName } from '../router';

type AnyComponent = ComponentType<any>;

const loaders = {
  About: () => import('./About').then((m) => m.About),
  Account: () => import('./Account').then((m) => m.Account),
  Admin: () => import('./Admin').then((m) => m.Admin),
  AdminAudit: () => import('./admin/Audit').then((m) => m.AdminAudit),
  AdminDirectory: () => import('./admin/Directory').then((m) => m.AdminDirectory),
  AdminGroupPage: () => import('./admin/Groups').then((m) => m.AdminGroupPage),
  AdminGroups: () => import('./admin/Groups').then((m) => m.AdminGroups),
  AdminLicenses: () => import('./admin/Licenses').then((m) => m.AdminLicenses),
  AdminLocalAccounts: () => import('./admin/LocalAccounts').then((m) => m.AdminLocalAccounts),
  AdminUserPage: () => import('./admin/UserDetail').then((m) => m.AdminUserPage),
  AdminUsers: () => import('./admin/Users').then((m) => m.AdminUsers),
  AssignmentPage: () => import('./Assignment').then((m) => m.AssignmentPage),
  ChangePassword: () => import('./ChangePassword').then((m) => m.ChangePassword),
  ClassPage: () => import('./ClassPage').then((m) => m.ClassPage),
  Classes: () => import('./Classes').then((m) => m.Classes),
  ForgotPassword: () => import('./ForgotPassword').then((m) => m.ForgotPassword),
  Home: () => import('./Home').then((m) => m.Home),
  NotFound: () => import('./NotFound').then((m) => m.NotFound),
  Register: () => import('./Register').then((m) => m.Register),
  ResetPassword: () => import('./ResetPassword').then((m) => m.ResetPassword),
  SchoolPeople: () => import('./SchoolPeople').then((m) => m.SchoolPeople),
  Schools: () => import('./Schools').then((m) => m.Schools),
  SignIn: () => import('./SignIn').then((m) => m.SignIn),
  VerifyEmail: () => import('./VerifyEmail').then((m) => m.VerifyEmail),
} satisfies Record<string, () => Promise<AnyComponent>>;

type PageName = keyof typeof loaders;

/** The components whose chunk has loaded (by page name). */
const loaded = new Map<string, AnyComponent>();

function load(name: PageName): Promise<AnyComponent> {
  return loaders[name]().then((c: AnyComponent) => {
    loaded.set(name, c);
    return c;
  });
}

function lazyPage(name: PageName): AnyComponent {
  const Lazy = lazy(() => load(name).then((c) => ({ default: c })));
  const Page = (props: object) => createElement(loaded.get(name) ?? Lazy, props);
  Page.displayName = `Lazy(${name})`;
  return Page;
}

/** The lazily loaded pages, by component name (`<pages.Classes me={me} />`). */
export const pages = Object.fromEntries(Object.keys(loaders).map((name) => [name, lazyPage(name as PageName)])) as unknown as {
  [K in PageName]: Awaited<ReturnType<(typeof loaders)[K]>>;
};

/** The page chunk(s) a route shows: the sign-in page too for `/`, where nobody may be signed in. */
export const ROUTE_PAGES: Record<RouteName, PageName[]> = {
  home: ['Home', 'SignIn'],
  signin: ['SignIn'],
  register: ['Register'],
  'forgot-password': ['ForgotPassword'],
  'reset-password': ['ResetPassword'],
  'verify-email': ['VerifyEmail'],
  password: ['ChangePassword'],
  account: ['Account'],
  about: ['About'],
  schools: ['Schools'],
  'school-people': ['SchoolPeople'],
  classes: ['Classes'],
  class: ['ClassPage'],
  assignment: ['AssignmentPage'],
  admin: ['Admin'],
  'admin-users': ['AdminUsers'],
  'admin-user': ['AdminUserPage'],
  'admin-groups': ['AdminGroups'],
  'admin-group': ['AdminGroupPage'],
  'admin-licenses': ['AdminLicenses'],
  'admin-local-accounts': ['AdminLocalAccounts'],
  'admin-audit': ['AdminAudit'],
  'admin-directory': ['AdminDirectory'],
  notfound: ['NotFound'],
};

/** Starts downloading a route's page chunk(s) now (a failure shows later, when it renders). */
export function preloadRoute(route: RouteName): void {
  for (const name of ROUTE_PAGES[route]) load(name).catch(() => {});
}
