import { test } from '@playwright/test';
import { api, repoFile, replaceYaml, signIn } from './helpers';
test('debug', async ({ page }) => {
  await api('/workflows', { method: 'POST', body: repoFile('examples/templates/offboarding.yaml') });
  await signIn(page, '/workflows/offboarding');
  await page.getByTestId('node-deactivate').waitFor();
  const source = repoFile('examples/templates/offboarding.yaml');
  await replaceYaml(page, source.replace('uses: user-deactivate', 'uses: no-such-plugin'));
  await page.waitForTimeout(1500);
  const text = await page.locator('.cm-content').innerText();
  console.log(JSON.stringify(text.split('\n').slice(0, 12)));
});
