import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createQueryClient } from './api/queries';
import { preloadRoute } from './pages/lazy';
import { Router, matchRoute } from './router';
import { SessionProvider } from './session';
import './styles.css';

// The first page's chunk downloads in parallel with the app start and `/api/me`.
preloadRoute(matchRoute(window.location.pathname).name);

const root = document.getElementById('root');
if (root) {
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
}
