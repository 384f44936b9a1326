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
  await expect(page.getByTestId('connection')).toHaveText(/reconnecting/);
  await expect(page.getByTestId('connection')).toHaveText(/^connected/);
  expect(connections).toBeGreaterThanOrEqual(2);
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
