import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './api/index.ts';
import { LabProvider } from './lib/lab.tsx';
import { App } from './App.tsx';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
const made = createClient();
if (made.client) {
  root.render(
    <StrictMode>
      <LabProvider client={made.client}>
        <App />
      </LabProvider>
    </StrictMode>,
  );
} else {
  root.render(
    <div className="fatal" data-testid="no-token">
      <h1>FactorLab cannot connect</h1>
      <p>{made.problem}</p>
    </div>,
  );
}
