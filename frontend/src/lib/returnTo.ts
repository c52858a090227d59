// Where to go back to after signing in again (issue 16: an expired session never loses the way
// back). Only a path of this app: `/…`, never `//host` or `/\host` (another site), no scheme.

/** The path to return to, or undefined when `value` is not a safe path of ours. */
export function safeReturnTo(value: string | null | undefined): string | undefined {
  if (!value || value.length > 1024) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  if (/[\u0000-\u001f\\]/.test(value)) return undefined;
  if (value.startsWith('/signin') || value.startsWith('/auth/') || value.startsWith('/api/')) return undefined;
  return value;
}

/** The sign-in page that brings the person back to `path` (the current page by default). */
export function signInAgainHref(path = `${window.location.pathname}${window.location.search}`): string {
  const back = safeReturnTo(path);
  return back ? `/signin?return_to=${encodeURIComponent(back)}` : '/signin';
}
