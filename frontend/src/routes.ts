// The app's routes as plain data and functions (no React): the router (router.tsx) and the boot
// script (boot.ts, which must stay tiny and starts the first page's requests) share them.
export type ClassTab = 'students' | 'seating' | 'assignments' | 'documents' | 'conversations' | 'mail';

export type Route =
  | { name: 'home' }
  | { name: 'signin' }
  | { name: 'register' }
  | { name: 'forgot-password' }
  | { name: 'reset-password' }
  | { name: 'verify-email' }
  | { name: 'password' }
  | { name: 'account' }
  | { name: 'about' }
  | { name: 'schools' }
  | { name: 'school-people'; id: string }
  | { name: 'classes' }
  | { name: 'class'; id: string; tab: ClassTab }
  | { name: 'assignment'; id: string; aid: string }
  | { name: 'admin' }
  | { name: 'admin-users' }
  | { name: 'admin-user'; id: string }
  | { name: 'admin-groups' }
  | { name: 'admin-group'; id: string }
  | { name: 'admin-licenses' }
  | { name: 'admin-local-accounts' }
  | { name: 'admin-audit' }
  | { name: 'admin-directory' }
  | { name: 'notfound' };

/** The tenant admin console's sections (`/admin/<section>`). */
export const ADMIN_SECTIONS = {
  users: 'admin-users',
  groups: 'admin-groups',
  licenses: 'admin-licenses',
  'local-accounts': 'admin-local-accounts',
  audit: 'admin-audit',
  directory: 'admin-directory',
} as const;

/** Whether a route is one of the admin pages (admins only: the route guard and the server's 403). */
export function isAdminRoute(r: Route): boolean {
  return r.name === 'admin' || r.name.startsWith('admin-');
}

export type RouteName = Route['name'];

const TABS: readonly ClassTab[] = ['students', 'seating', 'assignments', 'documents', 'conversations', 'mail'];

/** A path segment that can be a Graph id (letters, digits, `-`, `_`, `.`, `=`), decoded. */
function idSegment(seg: string | undefined): string | undefined {
  if (!seg) return undefined;
  let v: string;
  try {
    v = decodeURIComponent(seg);
  } catch {
    return undefined;
  }
  return /^[A-Za-z0-9._=-]{1,200}$/.test(v) ? v : undefined;
}

/** Path -> page. Unknown paths are the Not found page. */
export function matchRoute(pathname: string): Route {
  const p = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  switch (p) {
    case '/':
      return { name: 'home' };
    case '/signin':
    case '/register':
    case '/forgot-password':
    case '/reset-password':
    case '/verify-email':
    case '/password':
    case '/account':
    case '/about':
    case '/schools':
    case '/classes':
    case '/admin':
      return { name: p.slice(1) as 'signin' };
  }
  const parts = p.split('/').slice(1);
  if (parts[0] === 'admin' && parts.length === 2 && Object.hasOwn(ADMIN_SECTIONS, parts[1]!)) {
    return { name: ADMIN_SECTIONS[parts[1] as keyof typeof ADMIN_SECTIONS] };
  }
  if (parts[0] === 'admin' && parts.length === 3 && (parts[1] === 'users' || parts[1] === 'groups')) {
    const id = idSegment(parts[2]);
    if (!id) return { name: 'notfound' };
    return parts[1] === 'users' ? { name: 'admin-user', id } : { name: 'admin-group', id };
  }
  if (parts[0] === 'classes') {
    const id = idSegment(parts[1]);
    if (!id) return { name: 'notfound' };
    if (parts.length === 2) return { name: 'class', id, tab: 'students' };
    if (parts.length === 3 && (TABS as readonly string[]).includes(parts[2]!)) {
      return { name: 'class', id, tab: parts[2] as ClassTab };
    }
    const aid = idSegment(parts[3]);
    if (parts.length === 4 && parts[2] === 'assignments' && aid) return { name: 'assignment', id, aid };
  }
  if (parts[0] === 'schools' && parts.length === 3 && parts[2] === 'people') {
    const id = idSegment(parts[1]);
    if (id) return { name: 'school-people', id };
  }
  return { name: 'notfound' };
}

/** Path -> page name (kept for callers that only need the name). */
export function routeOf(pathname: string): RouteName {
  return matchRoute(pathname).name;
}

export function classPath(id: string, tab: ClassTab = 'students'): string {
  const base = `/classes/${encodeURIComponent(id)}`;
  return tab === 'students' ? base : `${base}/${tab}`;
}

export function adminUserPath(id: string): string {
  return `/admin/users/${encodeURIComponent(id)}`;
}

export function adminGroupPath(id: string): string {
  return `/admin/groups/${encodeURIComponent(id)}`;
}

export function assignmentPath(id: string, aid: string): string {
  return `/classes/${encodeURIComponent(id)}/assignments/${encodeURIComponent(aid)}`;
}

/** A school's people page, on a tab (`all` is the default and has no query). */
export function schoolPeoplePath(id: string, tab: 'all' | 'teachers' | 'students' = 'all'): string {
  const base = `/schools/${encodeURIComponent(id)}/people`;
  return tab === 'all' ? base : `${base}?tab=${tab}`;
}

/** The page modules (under src/pages, without `.tsx`) a route shows: the sign-in page too for
 * `/`, where nobody may be signed in. The boot script preloads their chunks
 * (`<link rel=modulepreload>`, from the map the build writes into index.html) and the app
 * imports them (pages/lazy.tsx). */
export const ROUTE_MODULES: Record<RouteName, readonly string[]> = {
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
  assignment: ['Assignment'],
  admin: ['Admin'],
  'admin-users': ['admin/Users'],
  'admin-user': ['admin/UserDetail'],
  'admin-groups': ['admin/Groups'],
  'admin-group': ['admin/Groups'],
  'admin-licenses': ['admin/Licenses'],
  'admin-local-accounts': ['admin/LocalAccounts'],
  'admin-audit': ['admin/Audit'],
  'admin-directory': ['admin/Directory'],
  notfound: ['NotFound'],
};
