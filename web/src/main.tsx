import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './trpc.js';

const { client } = createClient(() => sessionStorage.getItem('clarion.token'));

function App() {
  const [status, setStatus] = useState<string>('checking…');
  useEffect(() => {
    client.health.check
      .query()
      .then((r) => setStatus(r.status === 'ok' ? 'All systems ready' : 'Degraded: some services are not answering'))
      .catch(() => setStatus('The server is not answering'));
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: '2rem' }}>
      <h1>Clarion</h1>
      <p>Real-time hospital alerting.</p>
      <p role="status">{status}</p>
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
