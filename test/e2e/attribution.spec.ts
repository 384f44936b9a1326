// The Attribution view against a real `factorlab serve` of its own, on a small ShapeWorld demo lab
// made with the real CLI: start an attribution of the demo run with the embedded CLIP, follow the
// progress, see classes with backgrounds, vote counts and the voters' thumbnails; drop one and undo
// it with Ctrl+Z.
import { expect, test } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { CLI } from '../helpers/cli.ts';
import { startServer, stopServer } from './serve.ts';

let url = '';
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

test.beforeAll(async () => {
  tmp = tempDir('factorlab-e2e-attr-');
  const lab = join(tmp.path, 'lab');
  const r = spawnSync(process.execPath, [CLI, 'demo', '--lab', lab, '--images', '300', '--generate', '0', '--json'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  const started = await startServer(lab, join(process.cwd(), 'test-results', 'e2e-attribution-server.log'));
  server = started.child;
  url = started.url;
});

test.afterAll(async () => {
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
});

test('attributes the demo run and shows backgrounds with their voters; drop and Ctrl+Z', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
  await page.getByTestId('nav-attribution').click();
  // The demo attributed its run already (k 3, split seed 0): it is listed; a new split seed starts another.
  await expect(page.getByTestId('attribution-row')).toHaveCount(1);
  await expect(page.getByTestId('attribution-run')).toContainText('shapeworld-cnn');
  await expect(page.getByTestId('attribution-clip')).toHaveValue('shapeworld');
  await page.getByTestId('attribution-seed').fill('1');
  await page.getByTestId('attribution-submit').click();

  const classes = page.getByTestId('attribution-class');
  await expect(classes.first()).toBeVisible({ timeout: 60_000 });
  // The job finishes: no progress bar, status done (rows stop moving as votes come in).
  await expect(page.getByTestId('attribution-status')).toHaveText('done', { timeout: 60_000 });
  await expect(page.getByTestId('attribution-progress')).toHaveCount(0);
  await expect(page.getByTestId('attribution-summary')).toContainText(/seed \d+, heldout \d+/);
  const voted = page.getByTestId('background-row').filter({ hasNot: page.getByTestId('background-votes').filter({ hasText: /^0$/ }) });
  await expect(voted.first()).toBeVisible();
  await expect(voted.first().locator('[data-testid="voter-thumbs"] img').first()).toBeVisible();
  await expect
    .poll(() =>
      voted
        .first()
        .locator('[data-testid="voter-thumbs"] img')
        .evaluateAll((imgs) =>
          imgs.length > 0 &&
          imgs.every((i) => {
            const img = i as unknown as { complete: boolean; naturalWidth: number };
            return img.complete && img.naturalWidth > 0;
          }),
        ),
    )
    .toBe(true);
  await page.screenshot({ path: join(process.cwd(), 'test-results', 'screenshots', 'attribution.png') });

  // Drop the first class's most voted background, then undo with Ctrl+Z.
  const first = classes.filter({ has: page.getByTestId('background-row') }).first();
  const phrase = (await first.getByTestId('background-phrase').first().textContent())!;
  const count = await first.getByTestId('background-row').count();
  await first.getByTestId('drop').first().click();
  await expect(first.getByTestId('background-row')).toHaveCount(count - 1);
  await expect(first.locator(`[data-testid="background-row"][data-phrase="${phrase}"]`)).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await expect(first.getByTestId('background-row')).toHaveCount(count);
  await expect(first.getByTestId('background-phrase').first()).toHaveText(phrase);

  // Add a background (CLIP embeds it; the failures vote again), then undo with the button.
  await first.getByTestId('add-background').fill('in outer space');
  await first.getByTestId('add-submit').click();
  await expect(first.locator('[data-testid="background-row"][data-phrase="in outer space"]')).toHaveCount(1);
  await expect(page.getByTestId('attribution-undo')).toHaveText('Undo (1)');
  await page.getByTestId('attribution-undo').click();
  await expect(first.locator('[data-testid="background-row"][data-phrase="in outer space"]')).toHaveCount(0);
  await expect(first.getByTestId('background-row')).toHaveCount(count);
  expect(pageErrors).toEqual([]);
});
