import { describe, expect, it } from 'vitest';
import { assignmentPath, classPath, matchRoute } from './router';

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
});
