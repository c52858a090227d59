// Route-level code splitting: every page module is its own chunk, fetched when its route is
// shown (students and teachers never download the admin console). The boot script (boot.ts)
// has already asked for the first route's chunks with `<link rel=modulepreload>`; `preloadRoute`
// imports them at app start, in parallel with `/api/me`.
//
// A page whose chunk has arrived renders at once, without suspending (lib/lazyComponent.ts).
import type { ComponentType } from 'react';
import { lazyComponent } from '../lib/lazyComponent';
import { ROUTE_MODULES, type RouteName } from '../routes';

/** The page modules, by their path under src/pages (the names `ROUTE_MODULES` uses). */
const modules = {
  About: () => import('./About'),
  Account: () => import('./Account'),
  Admin: () => import('./Admin'),
  'admin/Audit': () => import('./admin/Audit'),
  'admin/Directory': () => import('./admin/Directory'),
  'admin/Groups': () => import('./admin/Groups'),
  'admin/Licenses': () => import('./admin/Licenses'),
  'admin/LocalAccounts': () => import('./admin/LocalAccounts'),
  'admin/UserDetail': () => import('./admin/UserDetail'),
  'admin/Users': () => import('./admin/Users'),
  Assignment: () => import('./Assignment'),
  ChangePassword: () => import('./ChangePassword'),
  ClassPage: () => import('./ClassPage'),
  Classes: () => import('./Classes'),
  ForgotPassword: () => import('./ForgotPassword'),
  Home: () => import('./Home'),
  NotFound: () => import('./NotFound'),
  Register: () => import('./Register'),
  ResetPassword: () => import('./ResetPassword'),
  SchoolPeople: () => import('./SchoolPeople'),
  Schools: () => import('./Schools'),
  SignIn: () => import('./SignIn'),
  VerifyEmail: () => import('./VerifyEmail'),
};

type ModuleName = keyof typeof modules;
type Module<M extends ModuleName> = Awaited<ReturnType<(typeof modules)[M]>>;

/** Each page component's module (by component name). */
const moduleOf = new Map<string, ModuleName>();

/** A page component of a module, loaded the first time it renders. */
function page<M extends ModuleName, K extends keyof Module<M> & string>(module: M, component: K) {
  moduleOf.set(component, module);
  return lazyComponent(modules[module] as () => Promise<Module<M>>, (m) => m[component] as Module<M>[K] & ComponentType<any>, component);
}

/** The lazily loaded pages, by component name (`<pages.Classes me={me} />`). */
export const pages = {
  About: page('About', 'About'),
  Account: page('Account', 'Account'),
  Admin: page('Admin', 'Admin'),
  AdminAudit: page('admin/Audit', 'AdminAudit'),
  AdminDirectory: page('admin/Directory', 'AdminDirectory'),
  AdminGroupPage: page('admin/Groups', 'AdminGroupPage'),
  AdminGroups: page('admin/Groups', 'AdminGroups'),
  AdminLicenses: page('admin/Licenses', 'AdminLicenses'),
  AdminLocalAccounts: page('admin/LocalAccounts', 'AdminLocalAccounts'),
  AdminUserPage: page('admin/UserDetail', 'AdminUserPage'),
  AdminUsers: page('admin/Users', 'AdminUsers'),
  AssignmentPage: page('Assignment', 'AssignmentPage'),
  ChangePassword: page('ChangePassword', 'ChangePassword'),
  ClassPage: page('ClassPage', 'ClassPage'),
  Classes: page('Classes', 'Classes'),
  ForgotPassword: page('ForgotPassword', 'ForgotPassword'),
  Home: page('Home', 'Home'),
  NotFound: page('NotFound', 'NotFound'),
  Register: page('Register', 'Register'),
  ResetPassword: page('ResetPassword', 'ResetPassword'),
  SchoolPeople: page('SchoolPeople', 'SchoolPeople'),
  Schools: page('Schools', 'Schools'),
  SignIn: page('SignIn', 'SignIn'),
  VerifyEmail: page('VerifyEmail', 'VerifyEmail'),
};

/** Whether `name` is a page module this file can load (`ROUTE_MODULES` names only those). */
export function isPageModule(name: string): name is ModuleName {
  return Object.hasOwn(modules, name);
}

/** Starts loading a route's page module(s) now; settles when they have arrived or failed (a
 * failure shows later, when the page renders). */
export function preloadRoute(route: RouteName): Promise<void> {
  const wanted = new Set<string>(ROUTE_MODULES[route]);
  const loads = Object.entries(pages)
    .filter(([component]) => wanted.has(moduleOf.get(component) ?? ''))
    .map(([, p]) => p.preload());
  return Promise.allSettled(loads).then(() => undefined);
}
