// The console's bundle size and first-load time on loopback (BENCHMARKS.md):
//   cd console && BENCH=1 npx playwright test bench
import { expect, test } from '@playwright/test';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { consoleUrl, signIn } from './helpers';

function bundle() {
  const dir = join(import.meta.dirname, '..', 'dist', 'assets');
  const files = readdirSync(dir).map((f) => {
    const bytes = readFileSync(join(dir, f));
    return { file: f, bytes: statSync(join(dir, f)).size, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const sum = (k: 'bytes' | 'gzip', f: (x: string) => boolean) => files.filter((x) => f(x.file)).reduce((n, x) => n + x[k], 0);
  const entry = (x: string) => x.startsWith('index-');
  return {
    files,
    total: { bytes: sum('bytes', () => true), gzip: sum('gzip', () => true) },
    first_load: { bytes: sum('bytes', entry), gzip: sum('gzip', entry) },
  };
}

test('bundle size and first load', async ({ browser }) => {
  const runs: { sign_in_ms: number; dom_content_loaded_ms: number; builder_ms: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext(); // a cold cache every time
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(consoleUrl('/'));
    await expect(page.getByLabel('API token')).toBeVisible();
    const signInMs = Date.now() - t0;
    const nav = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd);
    await signIn(page);
    const t1 = Date.now();
    await page.goto(consoleUrl('/builder?template=provision-user'));
    await expect(page.getByTestId('node-user_creation')).toBeVisible();
    runs.push({ sign_in_ms: signInMs, dom_content_loaded_ms: Math.round(nav), builder_ms: Date.now() - t1 });
    await context.close();
  }
  const median = (k: keyof (typeof runs)[0]) => [...runs.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  const out = { bundle: bundle(), runs, median: { sign_in_ms: median('sign_in_ms'), dom_content_loaded_ms: median('dom_content_loaded_ms'), builder_ms: median('builder_ms') } };
  mkdirSync(join(import.meta.dirname, '..', 'artifacts'), { recursive: true });
  writeFileSync(join(import.meta.dirname, '..', 'artifacts', 'bench.json'), JSON.stringify(out, null, 2));
  console.log(JSON.stringify({ bundle: { total: out.bundle.total, first_load: out.bundle.first_load }, median: out.median }, null, 2));
});
