// The serve-mode transport: the typed API over one WebSocket, with reconnect and backoff.
import type { ApiEvent, Method, ParamsIn, Results } from '../../../electron/contract.ts';
import { imagePath } from '../../../electron/contract-names.ts';
import { ApiError, toApiError } from './errors.ts';
import type { ConnectionState, LabClient } from './types.ts';

interface Pending {
  method: Method;
  payload: string;
  sent: boolean;
  resolve: (value: unknown) => void;
  reject: (err: ApiError) => void;
  queueTimer: ReturnType<typeof setTimeout> | null;
}

export interface WebSocketClientOptions {
  token: string;
  /** Origin-relative by default: ws://<page host>/api?token=... */
  url?: string;
  /** How long a call made while disconnected waits for the socket before it is rejected. */
  queueTimeoutMs?: number;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

export function createWebSocketClient(opts: WebSocketClientOptions): LabClient {
  const token = opts.token;
  const wsUrl = opts.url ?? `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api?token=${encodeURIComponent(token)}`;
  const queueTimeoutMs = opts.queueTimeoutMs ?? 15000;

  let socket: WebSocket | null = null;
  let nextId = 1;
  let attempt = 0;
  let everOpened = false;
  let closedByUser = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let state: ConnectionState = { status: 'connecting', attempt: 0, detail: null };
  const pending = new Map<number, Pending>();
  const eventListeners = new Set<(e: ApiEvent) => void>();
  const connListeners = new Set<(s: ConnectionState) => void>();

  function setState(next: ConnectionState) {
    state = next;
    for (const l of connListeners) l(state);
  }

  function connect() {
    reconnectTimer = null;
    setState({ status: everOpened ? 'reconnecting' : 'connecting', attempt, detail: state.detail });
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl);
    } catch (err) {
      scheduleReconnect(err instanceof Error ? err.message : String(err));
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      attempt = 0;
      everOpened = true;
      setState({ status: 'open', attempt: 0, detail: null });
      for (const [, p] of pending) if (!p.sent) send(p);
    };
    ws.onmessage = (ev) => {
      if (socket !== ws) return;
      handleMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (socket !== ws) return;
      socket = null;
      const why = ev.reason || (ev.code === 1006 ? 'the server is not reachable or refused the token' : `closed (code ${ev.code})`);
      for (const [id, p] of pending) {
        if (!p.sent) continue; // still queued: it waits for the next connection
        pending.delete(id);
        p.reject(new ApiError('disconnected', `Connection to FactorLab lost during ${p.method}: ${why}. It was not completed.`, p.method));
      }
      if (closedByUser) {
        setState({ status: 'closed', attempt, detail: 'closed' });
        return;
      }
      scheduleReconnect(why);
    };
    ws.onerror = () => {
      /* a close event follows with the details */
    };
  }

  function scheduleReconnect(detail: string) {
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    setState({ status: everOpened ? 'reconnecting' : 'connecting', attempt, detail, retryInMs: delay });
    reconnectTimer = setTimeout(connect, delay);
  }

  function send(p: Pending) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (p.queueTimer) clearTimeout(p.queueTimer);
    p.queueTimer = null;
    socket.send(p.payload);
    p.sent = true;
  }

  function handleMessage(data: unknown) {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('FactorLab: ignoring a message that is not JSON', data.slice(0, 200));
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; ok?: unknown; result?: unknown; error?: unknown; event?: unknown };
    if (m.event !== undefined) {
      for (const l of eventListeners) {
        try {
          l(m.event as ApiEvent);
        } catch (err) {
          console.error('FactorLab: event listener failed', err);
        }
      }
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok === true) p.resolve(m.result);
    else p.reject(toApiError(m.error ?? { code: 'internal', message: 'the server answered without a result or an error' }, p.method));
  }

  function call<M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]> {
    return new Promise<Results[M]>((resolve, reject) => {
      if (closedByUser) {
        reject(new ApiError('disconnected', 'The connection to FactorLab was closed.', method));
        return;
      }
      const id = nextId++;
      const p: Pending = {
        method,
        payload: JSON.stringify({ id, method, params: params ?? {} }),
        sent: false,
        resolve: resolve as (v: unknown) => void,
        reject,
        queueTimer: null,
      };
      pending.set(id, p);
      if (socket && socket.readyState === WebSocket.OPEN) {
        send(p);
      } else {
        p.queueTimer = setTimeout(() => {
          if (pending.get(id) !== p || p.sent) return;
          pending.delete(id);
          reject(new ApiError('disconnected', `Not connected to FactorLab (${state.detail ?? 'connecting'}); ${method} was not sent.`, method));
        }, queueTimeoutMs);
      }
    });
  }

  connect();

  return {
    transport: 'websocket',
    call,
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    imageUrl(kind, imageId) {
      return `/lab/${imagePath(kind, imageId)}?token=${encodeURIComponent(token)}`;
    },
    connection: () => state,
    onConnection(listener) {
      connListeners.add(listener);
      return () => connListeners.delete(listener);
    },
    reconnectNow() {
      if (socket || closedByUser) return;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      attempt = 0;
      connect();
    },
    close() {
      closedByUser = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      socket?.close(1000, 'closed by the page');
      for (const [id, p] of pending) {
        pending.delete(id);
        if (p.queueTimer) clearTimeout(p.queueTimer);
        p.reject(new ApiError('disconnected', 'The connection to FactorLab was closed.', p.method));
      }
    },
  };
}
