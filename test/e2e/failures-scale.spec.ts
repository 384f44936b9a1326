// The failure grid at scale: a run with 50,000 failures, answered in the page's WebSocket by a
// stand-in for the three run methods (everything else goes to the real server). Scrolling to the
// middle and to the end keeps the DOM small and fetches only the pages that were looked at.
import { expect, test } from '@playwright/test';

const url = process.env.FACTORLAB_E2E_URL ?? '';
const RUN = 777777;
const TOTAL = 50_000;
const CLASSES = Array.from({ length: 100 }, (_, i) => `class-${i}`);
// 1x1 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

function failure(i: number) {
  const t = i % 100;
  const p = (i * 7 + 1) % 100 === t ? (t + 1) % 100 : (i * 7 + 1) % 100;
  return { imageId: i + 1, relPath: `c${t}/img_${i}.jpg`, trueClass: t, trueName: CLASSES[t], predClass: p, predName: CLASSES[p], confidence: 1 - i / TOTAL, trueProb: 0.01 };
}

test('scrolls through 50,000 failures fetching only the pages it shows', async ({ page }) => {
  const requested: { offset: number; limit: number }[] = [];
  await page.route('**/lab/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
  await page.routeWebSocket(/\/api\?token=/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((m) => ws.send(m));
    ws.onMessage((m) => {
      const msg = JSON.parse(String(m)) as { id: number; method: string; params: Record<string, number | string> };
      if (msg.params?.runId !== RUN || !['runs.summary', 'runs.failures', 'images.detail'].includes(msg.method)) {
        server.send(m);
        return;
      }
      let result: unknown;
      if (msg.method === 'runs.summary') {
        result = {
          id: RUN, modelId: 1, modelName: 'big-model', datasetId: 1, datasetName: 'big-set', status: 'done', provider: 'cpu',
          numImages: 100_000, numDone: 100_000, numScored: 100_000, numCorrect: 100_000 - TOTAL, accuracy: 0.5, createdAt: new Date().toISOString(),
          perClass: CLASSES.map((name, classIdx) => ({ classIdx, name, total: 1000, correct: 500, accuracy: 0.5 })),
          confusions: [], unmappedClasses: [],
        };
      } else if (msg.method === 'runs.failures') {
        const offset = Number(msg.params.offset ?? 0);
        const limit = Number(msg.params.limit ?? 200);
        requested.push({ offset, limit });
        const items = [];
        for (let i = offset; i < Math.min(TOTAL, offset + limit); i++) items.push(failure(i));
        result = { total: TOTAL, offset, items };
      } else {
        const f = failure(Number(msg.params.imageId) - 1);
        result = {
          id: f.imageId, datasetId: 1, relPath: f.relPath, absPath: `/big/${f.relPath}`, classIdx: f.trueClass, className: f.trueName, width: 1, height: 1, bytes: 70,
          prediction: { runId: RUN, trueProb: 0.01, correct: false, top5: [{ classIdx: f.predClass, name: f.predName, prob: f.confidence }] },
        };
      }
      ws.send(JSON.stringify({ id: msg.id, ok: true, result }));
    });
  });

  await page.goto(`${url}#/runs/${RUN}`);
  await expect(page.getByTestId('failure-total')).toHaveText('50,000 failures');
  await expect(page.getByTestId('failure-cell').first()).toBeVisible();
  const grid = page.getByTestId('failure-grid');

  // Wheel through the first screens, then jump to the middle and to the end.
  await grid.hover();
  for (let i = 0; i < 15; i++) await page.mouse.wheel(0, 1200);
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect(page.locator('[data-testid=failure-cell] .true-name').first()).toHaveText(/class-\d+/);
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator('[data-testid=failure-cell]').last()).toHaveAttribute('title', new RegExp(`img_${TOTAL - 1}\\.jpg`));

  const cells = await page.getByTestId('failure-cell').count();
  expect(cells, 'only the visible rows are in the DOM').toBeLessThan(120);
  const fetched = requested.reduce((n, r) => n + r.limit, 0);
  test.info().annotations.push({ type: 'fetched', description: `${requested.length} pages, ${fetched} rows of ${TOTAL}; ${cells} cells in the DOM` });
  expect(fetched, `fetched ${requested.length} pages`).toBeLessThan(TOTAL / 10);
  expect(new Set(requested.map((r) => r.offset)).size, 'no page fetched twice').toBe(requested.length);

  // The detail view steps backwards from the last failure.
  await page.locator('[data-testid=failure-cell]').last().click();
  await expect(page.getByTestId('detail-position')).toHaveText('50,000 / 50,000');
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('detail-position')).toHaveText('49,999 / 50,000');
  await expect(page.getByTestId('detail-path')).toContainText(`img_${TOTAL - 2}.jpg`);
  await page.keyboard.press('Escape');
  await page.screenshot({ path: 'test-results/screenshots/11-failures-50k-end.png' });
});
