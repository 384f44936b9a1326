import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Lab } from '../../electron/core/lab.ts';
import { startServer, type RunningServer } from '../../electron/serve.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeTinyDataset } from '../helpers/tiny-dataset.ts';

let tmp: { path: string; remove(): void };
let lab: Lab;
let server: RunningServer;

beforeAll(async () => {
  tmp = tempDir();
  lab = Lab.open(join(tmp.path, 'lab'));
  const renderer = join(tmp.path, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>FactorLab</title>');
  server = await startServer({ lab, port: 0, rendererDir: renderer });
  const { root } = await makeTinyDataset(tmp.path, 2);
  const job = lab.jobs.submit('import', 'import', { root });
  await lab.jobs.wait(job.id);
});

afterAll(async () => {
  await server.close();
  lab.close();
  tmp.remove();
});

function connect(token: string): Promise<WebSocket> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${token}`);
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
  });
}

function request(ws: WebSocket, id: number, method: string, params: unknown): Promise<any> {
  return new Promise((ok) => {
    const onMsg = (data: WebSocket.RawData) => {
      const msg = JSON.parse(String(data));
      if (msg.id === id) {
        ws.off('message', onMsg);
        ok(msg);
      }
    };
    ws.on('message', onMsg);
    ws.send(JSON.stringify({ id, method, params }));
  });
}

describe('serve mode', () => {
  it('binds 127.0.0.1 and prints a URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('serves the renderer with a Content-Security-Policy', async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await r.text()).toContain('FactorLab');
    const traversal = await fetch(`http://127.0.0.1:${server.port}/..%2F..%2Flab%2Flab.db`);
    expect(traversal.status).toBe(404);
  });

  it('refuses the API and images without the token', async () => {
    await expect(connect('wrong')).rejects.toThrow(/403/);
    const img = await fetch(`http://127.0.0.1:${server.port}/lab/thumb/1`);
    expect(img.status).toBe(403);
  });

  it('answers typed calls, validates params and pushes job events', async () => {
    const ws = await connect(server.token);
    const list = await request(ws, 1, 'datasets.list', {});
    expect(list.ok).toBe(true);
    expect(list.result[0]).toMatchObject({ numImages: 10, numClasses: 5 });
    const bad = await request(ws, 2, 'datasets.get', { datasetId: -1 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    const events: any[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.event) events.push(m.event);
    });
    const imp = await request(ws, 3, 'datasets.import', { root: join(tmp.path, 'tiny'), name: 'again' });
    expect(imp.ok).toBe(true);
    await lab.jobs.wait(imp.result.jobId);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.some((e) => e.type === 'job' && e.job.id === imp.result.jobId && e.job.status === 'done')).toBe(true);
    ws.close();
  });

  it('serves thumbnails and full images of registered images only', async () => {
    const t = await fetch(`http://127.0.0.1:${server.port}/lab/thumb/1?token=${server.token}`);
    expect(t.status).toBe(200);
    expect(t.headers.get('content-type')).toBe('image/webp');
    const bytes = Buffer.from(await t.arrayBuffer());
    expect(bytes.subarray(8, 12).toString()).toBe('WEBP');
    const full = await fetch(`http://127.0.0.1:${server.port}/lab/full/1?token=${server.token}`);
    expect(full.headers.get('content-type')).toBe('image/jpeg');
    const missing = await fetch(`http://127.0.0.1:${server.port}/lab/full/999?token=${server.token}`);
    expect(missing.status).toBe(404);
    const odd = await fetch(`http://127.0.0.1:${server.port}/lab/full/..%2F..%2Fetc%2Fpasswd?token=${server.token}`);
    expect(odd.status).toBe(404);
  });
});
