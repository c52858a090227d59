import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createQueryClient } from './api/queries';
import { preloadRoute } from './pages/lazy';
import { Router, matchRoute } from './router';
import { SessionProvider } from './session';
import './styles.css';

// The first page's chunks were asked for by the boot script (they download with the app); the
// app renders once they have arrived, so that the first page renders at once instead of showing
// a fallback first (React then holds the page back ~300 ms). `/api/me` and the page's first reads
// were started by the boot script too. A chunk that fails to load shows its error when rendered;
// one that takes longer than FIRST_PAGE_WAIT_MS shows the app's own loading state meanwhile.
const FIRST_PAGE_WAIT_MS = 1500;
const firstPage = Promise.race([
  preloadRoute(matchRoute(window.location.pathname).name),
  new Promise((resolve) => setTimeout(resolve, FIRST_PAGE_WAIT_MS)),
]);

const root = document.getElementById('root');
if (root) void firstPage.then(() => {
  const queryClient = createQueryClient();
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
});
