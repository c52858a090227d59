import { describe, expect, it } from 'vitest';
import { routeOf } from './router';
import {
  charCount,
  checkColor,
  checkEmail,
  checkNewPassword,
  validateChangePassword,
  validateRegister,
  validateSignIn,
} from './validation';

describe('form validation', () => {
  it('checks emails like the server', () => {
    expect(checkEmail('ann@school.edu')).toBeUndefined();
    expect(checkEmail('  Ann.Lee@School.EDU ')).toBeUndefined();
    expect(checkEmail('')).toBe('required');
    for (const bad of ['a', 'a@', '@b.c', 'a@b', 'a@@b.c', 'a b@c.d', 'a@.c', 'a@c.', 'a@b..c']) {
      expect(checkEmail(bad), bad).toBe('invalid_email');
    }
    expect(checkEmail(`${'a'.repeat(250)}@example.com`)).toBe('invalid_email');
  });

  it('applies the password policy: 8 to 256 characters, counted as the server counts', () => {
    expect(checkNewPassword('')).toBe('required');
    expect(checkNewPassword('1234567')).toBe('password_too_short');
    expect(checkNewPassword('12345678')).toBeUndefined();
    expect(checkNewPassword('x'.repeat(256))).toBeUndefined();
    expect(checkNewPassword('x'.repeat(257))).toBe('password_too_long');
    // Seven emoji are 14 UTF-16 units but 7 characters: too short for the server too.
    expect(charCount('😀'.repeat(7))).toBe(7);
    expect(checkNewPassword('😀'.repeat(7))).toBe('password_too_short');
    expect(checkNewPassword('😀'.repeat(256))).toBeUndefined();
  });

  it('accepts palette names and #rrggbb colours, or none', () => {
    for (const ok of ['', 'teal', 'Grey', '#1e90ff', '#ABCDEF']) expect(checkColor(ok), ok).toBeUndefined();
    for (const bad of ['gray', '#fff', 'red;', 'url(x)', '#12345g']) expect(checkColor(bad), bad).toBe('invalid_color');
  });

  it('validates whole forms', () => {
    expect(validateRegister({ email: '', display_name: '', password: 'short', favorite_color: 'nope' })).toEqual({
      email: 'required',
      password: 'password_too_short',
      favorite_color: 'invalid_color',
    });
    expect(
      validateRegister({ email: 'a@b.cd', display_name: '', password: 'long enough', favorite_color: '' }),
    ).toEqual({});
    expect(validateSignIn({ email: ' ', password: '' })).toEqual({ email: 'required', password: 'required' });
    expect(
      validateChangePassword({ current_password: '', new_password: 'new password', confirm_password: 'other' }),
    ).toEqual({ current_password: 'required', confirm_password: 'passwords_differ' });
    expect(
      validateChangePassword({ current_password: 'old', new_password: 'new password', confirm_password: 'new password' }),
    ).toEqual({});
  });
});

describe('routes', () => {
  it('maps paths to pages, unknown ones to Not found', () => {
    expect(routeOf('/')).toBe('home');
    expect(routeOf('/signin')).toBe('signin');
    expect(routeOf('/signin/')).toBe('signin');
    expect(routeOf('/register')).toBe('register');
    expect(routeOf('/password')).toBe('password');
    expect(routeOf('/admin')).toBe('admin');
    expect(routeOf('/administrator')).toBe('notfound');
    expect(routeOf('/signin/extra')).toBe('notfound');
  });
});
