import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './returnTo';

describe('safeReturnTo (issue 16: back to the page after signing in again)', () => {
  it('keeps a path of ours', () => {
    expect(safeReturnTo('/classes/abc/seating')).toBe('/classes/abc/seating');
    expect(safeReturnTo('/classes?scope=all&q=x')).toBe('/classes?scope=all&q=x');
  });
  it('refuses other sites, schemes and loops', () => {
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', null, '/signin?x=1', '/auth/microsoft/login', '/api/me', '/a\nb']) {
      expect(safeReturnTo(bad)).toBeUndefined();
    }
  });
});
