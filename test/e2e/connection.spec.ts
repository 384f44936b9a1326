// The serve-mode client over a socket that drops: it says so, reconnects with backoff, and a call
// that was in flight when the socket dropped fails with a plain error instead of hanging.
import { expect, test } from '@playwright/test';

const url = process.env.FACTORLAB_E2E_URL ?? '';

test('reconnects after the socket drops', async ({ page }) => {
  let connections = 0;
  await page.routeWebSocket(/\/api\?token=/, (ws) => {
    connections++;
    ws.connectToServer();
    if (connections === 1) setTimeout(() => ws.close({ code: 4000, reason: 'dropped by the test' }), 1500);
  });
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
  // The reconnecting state can last only a backoff step: record every text the indicator shows
  // instead of polling for it.
  // (A string: this file is type-checked without the DOM library.)
  await page.evaluate(`(() => {
    const el = document.querySelector('[data-testid=connection]');
    const seen = (window.__connStates = []);
    new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { subtree: true, childList: true, characterData: true });
  })()`);
  await expect.poll(() => connections, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('connection')).toHaveText(/^connected/);
  const states = (await page.evaluate('window.__connStates')) as string[];
  expect(states.some((t) => /reconnecting/.test(t)), `states seen: ${JSON.stringify(states)}`).toBe(true);
  // Calls work on the new socket.
  await page.getByTestId('nav-jobs').click();
  await expect(page.getByTestId('jobs-table').or(page.getByTestId('jobs-empty'))).toBeVisible();
});

test('a call in flight when the socket drops fails with a clear error, and a retry works', async ({ page }) => {
  let connections = 0;
  await page.routeWebSocket(/\/api\?token=/, (ws) => {
    connections++;
    const server = ws.connectToServer();
    const first = connections === 1;
    ws.onMessage((m) => {
      if (first && String(m).includes('"datasets.get"')) ws.close({ code: 4000, reason: 'dropped by the test' });
      else server.send(m);
    });
    server.onMessage((m) => ws.send(m));
  });
  await page.goto(`${url}#/datasets/424242`);
  await expect(page.getByTestId('error')).toContainText(/Disconnected: Connection to FactorLab lost during datasets\.get: dropped by the test/);
  await expect(page.getByTestId('connection')).toHaveText(/^connected/);
  await page.getByTestId('error').getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('error')).toContainText(/Not found/);
});
