import { describe, expect, it } from 'vitest';
import { adminGroupPath, adminUserPath, assignmentPath, classPath, isAdminRoute, matchRoute } from './router';

describe('routes', () => {
  it('maps class pages, their tabs and assignments', () => {
    expect(matchRoute('/classes')).toEqual({ name: 'classes' });
    expect(matchRoute('/classes/abc-123')).toEqual({ name: 'class', id: 'abc-123', tab: 'students' });
    expect(matchRoute('/classes/abc-123/seating/')).toEqual({ name: 'class', id: 'abc-123', tab: 'seating' });
    expect(matchRoute('/classes/abc/mail')).toEqual({ name: 'class', id: 'abc', tab: 'mail' });
    expect(matchRoute('/classes/abc/assignments/a1')).toEqual({ name: 'assignment', id: 'abc', aid: 'a1' });
    expect(matchRoute('/classes/abc/nope').name).toBe('notfound');
    expect(matchRoute('/classes/a%2Fb').name).toBe('notfound');
    expect(matchRoute('/classes/%E0%A4%A').name).toBe('notfound');
    expect(matchRoute('/about').name).toBe('about');
    expect(matchRoute('/account').name).toBe('account');
    expect(matchRoute('/schools').name).toBe('schools');
  });

  it('builds paths that match back', () => {
    expect(matchRoute(classPath('c-1', 'documents'))).toEqual({ name: 'class', id: 'c-1', tab: 'documents' });
    expect(classPath('c-1')).toBe('/classes/c-1');
    expect(matchRoute(assignmentPath('c-1', 'a-2'))).toEqual({ name: 'assignment', id: 'c-1', aid: 'a-2' });
  });

  it('maps the admin console, and knows which pages are for admins only', () => {
    expect(matchRoute('/admin')).toEqual({ name: 'admin' });
    expect(matchRoute('/admin/users')).toEqual({ name: 'admin-users' });
    expect(matchRoute('/admin/users/')).toEqual({ name: 'admin-users' });
    expect(matchRoute('/admin/groups')).toEqual({ name: 'admin-groups' });
    expect(matchRoute('/admin/licenses')).toEqual({ name: 'admin-licenses' });
    expect(matchRoute('/admin/local-accounts')).toEqual({ name: 'admin-local-accounts' });
    expect(matchRoute('/admin/audit')).toEqual({ name: 'admin-audit' });
    expect(matchRoute('/admin/directory')).toEqual({ name: 'admin-directory' });
    expect(matchRoute(adminUserPath('u-1'))).toEqual({ name: 'admin-user', id: 'u-1' });
    expect(matchRoute(adminGroupPath('g-1'))).toEqual({ name: 'admin-group', id: 'g-1' });
    expect(matchRoute('/admin/users/a%2Fb').name).toBe('notfound');
    expect(matchRoute('/admin/constructor').name).toBe('notfound');
    expect(matchRoute('/admin/toString').name).toBe('notfound');
    expect(matchRoute('/admin/licenses/x').name).toBe('notfound');
    for (const p of ['/admin', '/admin/users', '/admin/users/u', '/admin/groups/g', '/admin/audit', '/admin/directory']) {
      expect(isAdminRoute(matchRoute(p))).toBe(true);
    }
    for (const p of ['/', '/classes', '/about', '/account']) expect(isAdminRoute(matchRoute(p))).toBe(false);
  });
});
