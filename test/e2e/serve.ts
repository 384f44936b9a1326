// Starts and stops `factorlab serve` on a lab folder for the end-to-end tests (the global setup's
// server, and the scale spec's own server on its seeded lab).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function startServer(labDir: string, logFile: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'electron', 'cli.ts'), 'serve', '--lab', labDir, '--port', '0', '--print-url-json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const log = createWriteStream(logFile);
  child.stderr!.pipe(log);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`e2e setup: \`factorlab serve\` printed no URL within 60 s (log: ${logFile})`));
    }, 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          const msg = JSON.parse(line) as { url?: unknown };
          if (typeof msg.url === 'string') {
            clearTimeout(timer);
            resolve({ url: msg.url, child });
            return;
          }
        } catch {
          /* an unfinished line */
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`e2e setup: \`factorlab serve\` exited (${signal ?? code}) before printing its URL; see ${logFile}`));
    });
  });
}

/** SIGTERM (the server closes the lab), SIGKILL after 5 s. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** One call of the lab's WebSocket API of the server at `url` (its token in the query), as the page makes it. */
export async function callApi<T>(url: string, method: string, params: unknown): Promise<T> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/api?token=${encodeURIComponent(u.searchParams.get('token') ?? '')}`);
  await new Promise<void>((ok, ko) => {
    ws.onopen = () => ok();
    ws.onerror = () => ko(new Error('websocket error'));
  });
  const reply = new Promise<{ ok: boolean; result?: T; error?: { message: string } }>((ok) => {
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; ok: boolean; result?: T; error?: { message: string } };
      if (m.id === 1) ok(m);
    };
  });
  ws.send(JSON.stringify({ id: 1, method, params }));
  const m = await reply;
  ws.close();
  if (!m.ok) throw new Error(`${method}: ${m.error?.message}`);
  return m.result as T;
}
