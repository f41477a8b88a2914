import { test } from '@playwright/test';
import { consoleUrl, signIn } from './helpers';
test('debug', async ({ page }) => {
  const msgs: string[] = [];
  page.on('console', (m) => msgs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => msgs.push(`pageerror: ${e.message}`));
  await signIn(page);
  await page.goto(consoleUrl('/builder?template=offboarding'));
  await page.waitForTimeout(4000);
  await page.screenshot({ path: 'test-results/debug.png' });
  console.log(msgs.join('\n'));
});
