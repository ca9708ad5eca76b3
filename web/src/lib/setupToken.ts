/**
 * The one-time token of a /setup?token=… link, read once at page load and then removed from the
 * address bar (history.replaceState), so it does not stay in the history, a bookmark or a screenshot.
 * Read at module load, not in a component: StrictMode runs initialisers twice, and the second run
 * would find the address bar already cleaned.
 */
function take(): { onSetupPage: boolean; token: string | null } {
  if (location.pathname !== '/setup') return { onSetupPage: false, token: null };
  const token = new URLSearchParams(location.search).get('token');
  if (token !== null) history.replaceState(history.state, '', '/setup');
  return { onSetupPage: true, token: token || null };
}

export const setupLink = take();

/** After setup: the address bar shows the app's root again, where the board or console lives. */
export function leaveSetupPage(): void {
  history.replaceState(history.state, '', '/');
}
