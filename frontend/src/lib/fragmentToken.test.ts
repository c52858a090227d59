import { describe, expect, it } from 'vitest';
import { tokenFromHash } from './fragmentToken';

describe('tokenFromHash', () => {
  it('reads a base64url token from the fragment', () => {
    expect(tokenFromHash('#token=r0XNEq5_BvJUWvrY2vhpsSY8dNIlyiAF4Vn5KpOt5Z0')).toBe(
      'r0XNEq5_BvJUWvrY2vhpsSY8dNIlyiAF4Vn5KpOt5Z0',
    );
  });
  it('refuses anything else', () => {
    for (const h of ['', '#', '#token=', '#token=short', '#token=<script>alert(1)</script>', '#other=abcdefghijklmnopqrstuvwxyz']) {
      expect(tokenFromHash(h)).toBeUndefined();
    }
  });
});
