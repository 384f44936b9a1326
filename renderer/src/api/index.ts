// Picks the transport: the Electron preload bridge when present, else the serve-mode WebSocket.
import { createElectronClient } from './electron.ts';
import { createWebSocketClient } from './websocket.ts';
import type { LabClient } from './types.ts';

export type { LabClient, ConnectionState } from './types.ts';
export { ApiError, describeError } from './errors.ts';

export type ClientResult = { client: LabClient } | { client: null; problem: string };

/**
 * Reads the serve-mode token from the page URL once, keeps it in memory only and removes it from
 * the address bar (and so from history and screenshots).
 */
export function takeTokenFromUrl(): string | null {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token !== null) {
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  return token;
}

export function createClient(): ClientResult {
  if (window.factorlab) return { client: createElectronClient(window.factorlab) };
  const token = takeTokenFromUrl();
  if (!token) {
    return {
      client: null,
      problem:
        'This page needs the access token that `factorlab serve` prints. Open the full URL it printed ' +
        '(http://127.0.0.1:PORT/?token=...). The token is kept in memory only, so a reload needs the URL again.',
    };
  }
  return { client: createWebSocketClient({ token }) };
}
