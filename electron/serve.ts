// Serve mode: the built renderer and the same typed API over a WebSocket on 127.0.0.1, guarded by a
// random token. Used by the browser UI, remote labs over an SSH tunnel, and the end-to-end tests.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Lab } from './core/lab.ts';
import { createHandlers } from './core/api/handlers.ts';
import { dispatch } from './core/api/dispatch.ts';
import { imageForRoute } from './core/api/image-route.ts';
import { CONTENT_SECURITY_POLICY } from './security.ts';

export const DEFAULT_RENDERER_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist', 'renderer');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface ServeOptions {
  lab: Lab;
  port?: number;
  rendererDir?: string;
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function tokenMatches(expected: Buffer, given: string | null): boolean {
  if (!given) return false;
  const g = Buffer.from(given);
  return g.length === expected.length && timingSafeEqual(g, expected);
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  const rendererDir = resolve(opts.rendererDir ?? DEFAULT_RENDERER_DIR);
  const handlers = createHandlers(opts.lab);

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String((e as Error).message));
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const common = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, common).end();
      return;
    }
    if (url.pathname.startsWith('/lab/')) {
      if (!tokenMatches(expected, url.searchParams.get('token'))) {
        res.writeHead(403, { ...common, 'content-type': 'text/plain' }).end('missing or wrong token');
        return;
      }
      const r = await imageForRoute(opts.lab, url.pathname.slice('/lab/'.length));
      res.writeHead(r.status, { ...common, 'content-type': r.type, 'cache-control': 'private, max-age=3600' }).end(r.body);
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = resolve(rendererDir, rel);
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      if (!existsSync(join(rendererDir, 'index.html'))) {
        res.writeHead(503, { ...common, 'content-type': 'text/plain' }).end(`the renderer is not built (${rendererDir} is missing): run \`npm run build\``);
        return;
      }
      res.writeHead(404, { ...common, 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...common, 'content-type': type, ...(type.startsWith('text/html') ? { 'content-security-policy': CONTENT_SECURITY_POLICY } : {}) });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api' || !tokenMatches(expected, url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', async (data) => {
        let msg: { id?: unknown; method?: unknown; params?: unknown };
        try {
          msg = JSON.parse(String(data));
        } catch {
          ws.send(JSON.stringify({ id: null, ok: false, error: { code: 'invalid_params', message: 'message is not JSON' } }));
          return;
        }
        const reply = await dispatch(handlers, msg.method, msg.params);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: msg.id ?? null, ...reply }));
      });
    });
  });
  const onEvent = (event: unknown) => {
    const text = JSON.stringify({ event });
    for (const c of clients) if (c.readyState === c.OPEN) c.send(text);
  };
  opts.lab.events.on('event', onEvent);

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      opts.lab.events.off('event', onEvent);
      for (const c of clients) c.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
