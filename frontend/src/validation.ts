// Client-side checks that mirror the server's rules (backend/domain), so people learn about a
// mistake before sending the form. The server still decides; its codes map to the same messages.

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const EMAIL_MAX = 254;

/** The named palette (backend/domain `FavoriteColor::PALETTE`). */
export const PALETTE = [
  { name: 'blue', hex: '#2f19ff' },
  { name: 'green', hex: '#127605' },
  { name: 'grey', hex: '#535353' },
  { name: 'red', hex: '#c62828' },
  { name: 'orange', hex: '#ef6c00' },
  { name: 'purple', hex: '#6a1b9a' },
  { name: 'teal', hex: '#00796b' },
  { name: 'pink', hex: '#ad1457' },
] as const;

export type PaletteName = (typeof PALETTE)[number]['name'];

/** Length in characters as the server counts them (Unicode scalar values, not UTF-16 units). */
export function charCount(s: string): number {
  return Array.from(s).length;
}

export function checkEmail(raw: string): string | undefined {
  const s = raw.trim();
  if (!s) return 'required';
  if (s.length > EMAIL_MAX || /\s/.test(s)) return 'invalid_email';
  const at = s.indexOf('@');
  if (at <= 0 || at !== s.lastIndexOf('@')) return 'invalid_email';
  const domain = s.slice(at + 1);
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => l.length === 0)) return 'invalid_email';
  return undefined;
}

/** A new password: 8 to 256 characters, nothing else (no composition rules). */
export function checkNewPassword(raw: string): string | undefined {
  if (!raw) return 'required';
  const n = charCount(raw);
  if (n < PASSWORD_MIN) return 'password_too_short';
  if (n > PASSWORD_MAX) return 'password_too_long';
  return undefined;
}

export function checkColor(raw: string): string | undefined {
  const s = raw.trim().toLowerCase();
  if (!s) return undefined; // optional
  if (PALETTE.some((p) => p.name === s)) return undefined;
  return /^#[0-9a-f]{6}$/.test(s) ? undefined : 'invalid_color';
}

export type Errors<K extends string> = Partial<Record<K, string>>;

export interface RegisterForm {
  email: string;
  display_name: string;
  password: string;
  favorite_color: string;
}

export function validateRegister(f: RegisterForm): Errors<keyof RegisterForm> {
  const e: Errors<keyof RegisterForm> = {};
  const email = checkEmail(f.email);
  if (email) e.email = email;
  const password = checkNewPassword(f.password);
  if (password) e.password = password;
  const color = checkColor(f.favorite_color);
  if (color) e.favorite_color = color;
  return e;
}

export interface SignInForm {
  email: string;
  password: string;
}

export function validateSignIn(f: SignInForm): Errors<keyof SignInForm> {
  const e: Errors<keyof SignInForm> = {};
  if (!f.email.trim()) e.email = 'required';
  if (!f.password) e.password = 'required';
  return e;
}

export interface ChangePasswordForm {
  current_password: string;
  new_password: string;
  confirm_password: string;
}

export function validateChangePassword(f: ChangePasswordForm): Errors<keyof ChangePasswordForm> {
  const e: Errors<keyof ChangePasswordForm> = {};
  if (!f.current_password) e.current_password = 'required';
  const p = checkNewPassword(f.new_password);
  if (p) e.new_password = p;
  else if (f.confirm_password !== f.new_password) e.confirm_password = 'passwords_differ';
  return e;
}
