// Account links carry their one-time token in the URL fragment (`#token=…`): a fragment is never
// sent to a server, so the token stays out of server logs and `Referer` headers. The page reads it
// once and removes it from the address bar and the history entry (issue 17.5, R-B4).

/** The `token` of a `#token=…` fragment, or undefined. */
export function tokenFromHash(hash: string): string | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token')?.trim();
  return token && /^[A-Za-z0-9_-]{16,128}$/.test(token) ? token : undefined;
}

/** Removes the fragment from the current history entry (the token is kept in memory only). */
export function dropHash(): void {
  if (window.location.hash) {
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  }
}
