import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createQueryClient } from './api/queries';
import { preloadRoute } from './pages/lazy';
import { Router, matchRoute } from './router';
import { SessionProvider, meQuery } from './session';
import './styles.css';

// The app's first render waits (at most FIRST_RENDER_WAIT_MS) for what the first page needs
// anyway: its chunks, which the boot script asked for while the app downloaded, and who is signed
// in, whose answer the boot script also started. Rendering earlier would show a fallback first
// (and React then holds the page back ~300 ms) and render the whole tree twice on a slow CPU.
// A chunk that fails to load shows its error when rendered; one that takes longer than the wait
// shows the app's own loading state meanwhile.
const FIRST_RENDER_WAIT_MS = 1500;

const root = document.getElementById('root');
if (root) {
  const queryClient = createQueryClient();
  const ready = Promise.all([preloadRoute(matchRoute(window.location.pathname).name), queryClient.prefetchQuery(meQuery())]);
  void Promise.race([ready, new Promise((resolve) => setTimeout(resolve, FIRST_RENDER_WAIT_MS))]).then(() =>
    render(root, queryClient),
  );
}

function render(root: HTMLElement, queryClient: QueryClient): void {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <Router>
          <SessionProvider>
            <App />
          </SessionProvider>
        </Router>
      </QueryClientProvider>
    </StrictMode>,
  );
}
