import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App';

// The dashboard's Content-Security-Policy forbids eval: zod must not probe for it (Chrome reports the probe as a
// violation even though zod catches it) nor compile parsers with it.
z.config({ jitless: true });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
