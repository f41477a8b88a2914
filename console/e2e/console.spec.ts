// The console as an admin uses it, in a real browser against a real `sluice serve`.
import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, consoleUrl, interruptedRunService, replaceYaml, repoFile, shot, signIn, watchErrors, yamlText } from './helpers';

test.describe.configure({ mode: 'serial' });

test('sign in: a wrong token is refused with a clear message, the right one opens the console', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(consoleUrl('/'));
  await expect(page.getByLabel('API token')).toBeVisible();
  await page.getByLabel('API token').fill('slk_0000000000000000000000000000000000000000000000000000000000000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('not accepted');
  await shot(page, 'sign-in');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Workflows' })).toBeVisible();
  // The token lives in sessionStorage only, never in the URL or localStorage.
  expect(page.url()).not.toContain('slk_');
  expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain('slk_');
  // No Content-Security-Policy violation (or any other error) while loading.
  expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
});

test('template gallery: use offboarding, set its variables, save, list, toggle off and on', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, '/templates');
  await expect(page.getByTestId('template-offboarding')).toBeVisible();
  await shot(page, 'templates');
  await page.getByTestId('template-offboarding').getByRole('button', { name: 'Use template' }).click();
  await expect(page.getByTestId('node-deactivate')).toBeVisible();
  await expect(page.getByTestId('node-notify_it')).toBeVisible();
  await expect(page.getByTestId('unsaved')).toBeVisible();
  // The variables' form: change the IT team's address.
  const team = page.getByTestId('vars').getByLabel('it_team 1', { exact: true });
  await team.fill('helpdesk@company.com');
  await expect(page.locator('.cm-content')).toContainText('helpdesk@company.com');
  await expect(page.getByText('No problems: this workflow can be saved.')).toBeVisible();
  await shot(page, 'builder');
  await page.getByTestId('save').click();
  await expect(page.getByText('Saved version 1.')).toBeVisible();
  await expect(page).toHaveURL(/\/workflows\/offboarding$/);
  // Saved as edited: the template's text with that one value changed.
  const saved = await api<{ source: string }>('/workflows/offboarding/versions/1');
  const template = repoFile('examples/templates/offboarding.yaml');
  expect(saved.body.source).toBe(template.replace('it_team: [it-team@company.com]', 'it_team: [helpdesk@company.com]'));

  await page.getByRole('link', { name: 'Workflows' }).click();
  const row = page.getByTestId('workflow-offboarding');
  await expect(row).toContainText('Manager');
  await expect(row).toContainText('manual');
  await shot(page, 'workflows');
  const toggle = row.getByRole('switch');
  await expect(toggle).toBeChecked();
  await toggle.click();
  await expect(toggle).not.toBeChecked();
  expect((await api<{ enabled: boolean }>('/workflows/offboarding')).body.enabled).toBe(false);
  await toggle.click();
  await expect(toggle).toBeChecked();
  expect((await api<{ enabled: boolean }>('/workflows/offboarding')).body.enabled).toBe(true);
  // The builder (graph, editor) works under the Content-Security-Policy: no violation.
  expect(errors).toEqual([]);
});

test('provisioning: run it from the generated form, watch it finish, read each step and the result', async ({ page }) => {
  const created = await api('/workflows', { method: 'POST', body: repoFile('examples/provision-user.yaml') });
  expect(created.status).toBe(201);
  await signIn(page, '/workflows/provision-user/run');
  const form = page.getByTestId('run-form');
  await form.locator('#input-first_name').fill('Grace');
  await form.locator('#input-last_name').fill('Hopper');
  await form.locator('#input-email').fill('grace.hopper@example.com');
  await form.locator('#input-username').fill('grace.hopper');
  await form.locator('#input-department').fill('Engineering');
  await form.locator('#input-job_title').fill('Software Engineer');
  await expect(form.locator('#input-password')).toHaveAttribute('type', 'password');
  await shot(page, 'run-form');
  await form.getByRole('button', { name: 'Run' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.locator('.page-head .status')).toHaveText('succeeded', { timeout: 60_000 });
  // A finished run cannot be resumed (only retried).
  await expect(page.getByRole('button', { name: 'Resume' })).toHaveCount(0);
  // All 16 steps, those that ran with their calls, those whose `when` was false marked.
  await expect(page.getByTestId('steps').locator(':scope > li[data-top]')).toHaveCount(16);
  await expect(page.getByTestId('step-ldap_binding')).toContainText('not run');
  await expect(page.getByTestId('step-group_assignment')).toContainText('3 calls');
  await page.getByTestId('step-user_creation').getByRole('button').first().click();
  await expect(page.getByTestId('step-user_creation').locator('table.calls')).toContainText('/api/systemusers');
  await expect(page.locator('pre.result')).toContainText('grace.hopper');
  await shot(page, 'run');
  await page.getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByTestId('runs')).toContainText('provision-user');
  await shot(page, 'runs');
});

test('a broken workflow: problems at their lines and on their nodes, save refused, nothing stored', async ({ page }) => {
  const errors = watchErrors(page);
  // Opened by its address (a reload or a shared link), not from the list.
  await signIn(page, '/workflows/offboarding');
  await expect(page.getByTestId('node-deactivate')).toBeVisible();
  const before = (await api<{ versions: unknown[] }>('/workflows/offboarding/versions')).body.versions.length;
  const source = (await api<{ source: string }>(`/workflows/offboarding/versions/${before}`)).body.source;
  const broken = source.replace('uses: user-deactivate', 'uses: no-such-plugin').replace('subject: "Offboarded: ${input.username}"', 'subject: "{{ unclosed"');
  expect(broken).not.toBe(source);
  await replaceYaml(page, broken);
  const problems = page.getByTestId('problems');
  await expect(problems).toContainText('no-such-plugin');
  await expect(problems).toContainText('bad template');
  const brokenLines = broken.split('\n');
  const pluginLine = brokenLines.findIndex((l) => l.includes('no-such-plugin')) + 1;
  await expect(problems).toContainText(`line ${pluginLine}`);
  await expect(page.getByTestId('node-deactivate')).toHaveClass(/gnode-problem/);
  await expect(page.getByTestId('node-notify_it')).toHaveClass(/gnode-problem/);
  // The editor marks the lines too.
  await expect(page.locator('.cm-lintRange-error').first()).toBeVisible();
  await shot(page, 'builder-problems');
  await page.getByTestId('save').click();
  await expect(page.getByTestId('save-refused')).toBeVisible();
  const after = (await api<{ versions: unknown[] }>('/workflows/offboarding/versions')).body.versions.length;
  expect(after).toBe(before);
  // The refused save is the one error the page logs (its 400 answer).
  expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
});

test('an edit in the graph changes only that step of the commented YAML', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await signIn(page, '/workflows/offboarding');
  const v = (await api<{ version: number }>('/workflows/offboarding')).body.version;
  const source = (await api<{ source: string }>(`/workflows/offboarding/versions/${v}`)).body.source;
  await page.getByTestId('node-notify_it').click();
  const panel = page.getByTestId('step-panel');
  await expect(panel).toContainText('notify_it');
  await panel.getByLabel('Name', { exact: true }).fill('Tell IT');
  await panel.getByLabel('Timeout').fill('45s');
  await expect(page.getByTestId('node-notify_it')).toContainText('Tell IT');
  await page.getByTestId('save').click();
  await expect(page.getByText(`Saved version ${v + 1}.`)).toBeVisible();
  const saved = (await api<{ source: string }>(`/workflows/offboarding/versions/${v + 1}`)).body.source;
  const a = source.split('\n');
  const b = saved.split('\n');
  const start = a.findIndex((l) => l.includes('- id: notify_it'));
  const end = a.findIndex((l, i) => i > start && l.startsWith('output:'));
  // Everything before and after the step is the same, line for line.
  expect(b.slice(0, start)).toEqual(a.slice(0, start));
  expect(b.slice(b.length - (a.length - end))).toEqual(a.slice(end));
  // And the step itself gained exactly the two fields.
  const added = b.slice(start, b.length - (a.length - end)).filter((l) => !a.slice(start, end).includes(l));
  expect(added.map((l) => l.trim()).sort()).toEqual(['name: Tell IT', 'timeout: 45s']);
});

test('the plugin picker groups plugins by category, each with its description and what it needs', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await signIn(page, '/workflows/offboarding');
  await page.getByTestId('node-deactivate').click();
  const panel = page.getByTestId('step-panel');
  const current = panel.getByLabel('Plugin', { exact: true });
  await expect(current).toContainText('user-deactivate');
  await expect(current).toContainText('Users');
  await current.click();
  const picker = panel.getByTestId('plugin-picker');
  const headings = await picker.locator('h4').allTextContents();
  // Actions and connectors (this is an action step), categories in the service's order.
  expect(headings.map((h) => h.replace(/\s*\(\d+\)$/, ''))).toEqual(['Users', 'Groups', 'Devices', 'Applications & policies', 'Directory Insights', 'Provisioning', 'General', 'Connectors']);
  const users = picker.getByRole('region', { name: 'Users' });
  const deactivate = users.getByRole('button', { name: /user-deactivate/ });
  await expect(deactivate).toHaveAttribute('aria-pressed', 'true');
  await expect(deactivate).toContainText('suspends the user');
  await expect(deactivate).toContainText('Needs: jumpcloud:users');
  await expect(picker.getByRole('region', { name: 'Connectors' })).toContainText('jira');
  await expect(picker.getByRole('region', { name: 'General' })).toContainText('transform');
  await expect(picker.getByRole('region', { name: 'General' })).toContainText('Needs: no permissions');
  // Conditions are for `if` steps: not offered here.
  await expect(picker).not.toContainText('user-exists');
  await shot(page, 'builder-plugin-picker');
  // A search narrows every category; picking one sets the step's plugin in the YAML.
  await picker.getByLabel('Search plugins').fill('ldap');
  await expect(picker.locator('h4')).toHaveCount(1);
  await expect(picker.getByRole('region', { name: 'Provisioning' })).toContainText('user-ldap-bind');
  await picker.getByLabel('Search plugins').fill('suspend');
  await picker.getByRole('region', { name: 'Users' }).getByRole('button', { name: /^user-suspend/ }).click();
  await expect(picker).toBeHidden();
  await expect(current).toContainText('user-suspend');
  await expect(panel).toContainText('Needs: jumpcloud:users (read and change JumpCloud users)');
  await expect.poll(() => yamlText(page)).toContain('uses: user-suspend');
  await expect(page.getByTestId('unsaved')).toBeVisible();
});

test('connectors: add one whose secret is never shown back; plugins and audit', async ({ page }) => {
  await signIn(page, '/connectors');
  const form = page.getByTestId('add-connector');
  await form.locator('#c-name').fill('ticketing');
  await form.getByLabel('Base URL').fill('https://tickets.example.com/api');
  await form.getByLabel('Secret (write-only)').fill('s3cret-value-123');
  await expect(form.getByLabel('Secret (write-only)')).toHaveAttribute('type', 'password');
  await form.getByRole('button', { name: 'Add connector' }).click();
  await expect(page.getByTestId('connector-ticketing')).toContainText('****');
  await expect(form.getByLabel('Secret (write-only)')).toHaveValue('');
  expect(await page.content()).not.toContain('s3cret-value-123');
  expect(JSON.stringify((await api('/connectors/ticketing')).body)).not.toContain('s3cret-value-123');
  await shot(page, 'connectors');
  await page.getByRole('link', { name: 'Plugins' }).click();
  await expect(page.getByTestId('plugins')).toContainText('user-deactivate');
  // Grouped by category, in the service's order; a category can be picked alone.
  await expect(page.getByTestId('category-Users')).toContainText('user-deactivate');
  await expect(page.getByTestId('category-Connectors')).toContainText('jira');
  await expect(page.getByTestId('category-Directory Insights')).toContainText('events-query');
  await page.getByLabel('Category').selectOption('Groups');
  await expect(page.getByTestId('plugins').locator('tbody')).toHaveCount(1);
  await expect(page.getByTestId('category-Groups')).toContainText('group-add-member');
  await page.getByLabel('Category').selectOption('');
  await shot(page, 'plugins');
  await page.getByRole('link', { name: 'user-deactivate' }).click();
  await expect(page.getByRole('heading', { name: 'Input schema' })).toBeVisible();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByTestId('audit')).toContainText('connector.add');
  await expect(page.getByTestId('audit')).toContainText('workflow.create');
  await shot(page, 'audit');
});

/** The test plugin the Rust test suite builds (tests/plugins/hostile), if it was built. */
function hostileWasm(): string | null {
  const base = join(import.meta.dirname, '..', '..', 'target', 'plugins', 'wasm32-wasip2');
  for (const profile of ['plugin-dev', 'plugin']) {
    const p = join(base, profile, 'hostile.wasm');
    if (existsSync(p)) return p;
  }
  return null;
}

test('install a plugin with a permission review, grant a subset, and run it', async ({ page }) => {
  const wasm = hostileWasm();
  // A missing plugin is a broken setup, not a reason to pass: scripts/test runs the Rust
  // tests (which build it) before these.
  expect(wasm, 'tests/plugins/hostile is built by `cargo test` (scripts/test runs it first)').not.toBeNull();
  await signIn(page, '/plugins');
  // The component goes up once: the grants follow without it.
  const uploads: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/plugins') && ['POST', 'PUT'].includes(r.method())) uploads.push(`${r.method()} ${new URL(r.url()).pathname} ${r.postDataBuffer()?.length ?? 0}`);
  });
  await page.getByLabel('Plugin component (.wasm)').setInputFiles(wasm!);
  await page.getByRole('button', { name: 'Review permissions…' }).click();
  const review = page.getByTestId('permission-review');
  await expect(review).toContainText('jumpcloud:users.readonly');
  await expect(review).toContainText('read JumpCloud users');
  await expect(review).toContainText('http:allowed');
  await shot(page, 'plugin-review');
  // Nothing is granted before the review is confirmed.
  expect((await api<{ plugin: { grants: string[] } }>('/plugins/hostile')).body.plugin.grants).toEqual([]);
  await review.getByRole('checkbox').nth(0).uncheck();
  await review.getByRole('checkbox').nth(1).uncheck();
  await review.getByRole('button', { name: 'Grant 1 and install' }).click();
  await expect(page.getByText('granted: state')).toBeVisible();
  expect((await api<{ plugin: { grants: string[] } }>('/plugins/hostile')).body.plugin.grants).toEqual(['state']);
  const size = readFileSync(wasm!).length;
  expect(uploads).toHaveLength(2);
  expect(uploads[0]).toBe(`POST /api/v1/plugins ${size}`);
  expect(uploads[1]).toMatch(/^PUT \/api\/v1\/plugins\/hostile%40[^/]+\/grants \d+$/);
  expect(Number(uploads[1].split(' ')[2])).toBeLessThan(1000);
  // Installed plugins are listed under a category of their own.
  await expect(page.getByTestId('category-Installed')).toContainText('hostile');
  // A workflow using it, run from the console's form.
  const doc = `version: 1
name: echo-test
trigger:
  type: manual
  input_schema: { type: object, required: [word], properties: { word: { type: string } } }
run_as: Read Only
steps:
  - id: echo
    uses: hostile
    with: { mode: echo, arg: "\${input.word}" }
`;
  expect((await api('/workflows', { method: 'POST', body: doc })).status).toBe(201);
  await page.goto(consoleUrl('/workflows/echo-test/run'));
  await page.locator('#input-word').fill('<b>not markup</b>');
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(page.locator('.page-head .status')).toHaveText('succeeded', { timeout: 30_000 });
  // A value from a run is text on the page, never markup.
  await expect(page.locator('pre.result')).toContainText('<b>not markup</b>');
  expect(await page.locator('pre.result b').count()).toBe(0);
});

/** The test pack the Rust test suite builds (tests/plugins/sample-pack, the pack `acme`), if built. */
function samplePackWasm(): string | null {
  const base = join(import.meta.dirname, '..', '..', 'target', 'plugins', 'wasm32-wasip2');
  for (const profile of ['plugin-dev', 'plugin']) {
    const p = join(base, profile, 'sample_pack.wasm');
    if (existsSync(p)) return p;
  }
  return null;
}

type Row = { name: string; version: string; grants: string[]; permissions: string[]; pack?: { name: string; version: string } };

test('install a pack with a per-plugin review, grant one plugin, list it by pack, remove it as a unit', async ({ page }) => {
  const wasm = samplePackWasm();
  expect(wasm, 'tests/plugins/sample-pack is built by `cargo test` (scripts/test runs it first)').not.toBeNull();
  await signIn(page, '/plugins');
  const calls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/plugins') && ['POST', 'PUT', 'DELETE'].includes(r.method())) calls.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  const upload = async () => {
    await page.getByLabel('Plugin component (.wasm)').setInputFiles(wasm!);
    await page.getByRole('button', { name: 'Review permissions…' }).click();
    const review = page.getByTestId('permission-review');
    await expect(review).toContainText('Pack acme@');
    return review;
  };

  // Cancelling the review removes the whole pack.
  let review = await upload();
  const pack = (await api<{ pack: { name: string; version: string }; plugins: Row[] }>('/plugins/acme')).body;
  const id = `acme@${pack.pack.version}`;
  expect(pack.plugins.map((p) => p.name).sort()).toEqual(['acme-email-in-domain', 'acme-user-email', 'acme-user-probe']);
  await review.getByRole('button', { name: 'Cancel (remove the pack)' }).click();
  await expect(review).toBeHidden();
  expect(calls).toEqual(['POST /api/v1/plugins', `DELETE /api/v1/plugins/${encodeURIComponent(id)}`]);
  for (const name of ['acme', 'acme-user-email', 'acme-user-probe', 'acme-email-in-domain']) expect((await api(`/plugins/${name}`)).status).toBe(404);

  // Each plugin is reviewed with what it declares; nothing is granted before the review is confirmed.
  calls.length = 0;
  review = await upload();
  await expect(review.getByTestId('review-acme-user-email')).toContainText('jumpcloud:users.readonly');
  await expect(review.getByTestId('review-acme-user-email')).toContainText('read JumpCloud users');
  await expect(review.getByTestId('review-acme-user-probe')).toContainText('It declares none.');
  await expect(review.getByTestId('review-acme-email-in-domain')).toContainText('(condition)');
  await expect(review.getByRole('checkbox')).toHaveCount(1);
  await expect(review.getByRole('checkbox')).toBeChecked();
  await shot(page, 'pack-review');
  for (const p of (await api<{ plugins: Row[] }>('/plugins/acme')).body.plugins) expect(p.grants).toEqual([]);
  await review.getByRole('button', { name: 'Grant 1 and install' }).click();
  await expect(page.locator('.notice')).toHaveText(/^Installed pack acme@\S+: .*acme-user-email granted jumpcloud:users\.readonly.*\.$/);
  await expect(page.locator('.notice')).toContainText('acme-user-probe granted nothing');
  await expect(page.locator('.notice')).toContainText('acme-email-in-domain granted nothing');
  // One upload, then one grants PUT per plugin.
  expect(calls[0]).toBe('POST /api/v1/plugins');
  expect(calls.slice(1).sort()).toEqual(['acme-email-in-domain', 'acme-user-email', 'acme-user-probe'].map((n) => `PUT /api/v1/plugins/${encodeURIComponent(`${n}@${pack.pack.version}`)}/grants`));
  const grants = Object.fromEntries((await api<{ plugins: Row[] }>('/plugins/acme')).body.plugins.map((p) => [p.name, p.grants]));
  expect(grants).toEqual({ 'acme-user-email': ['jumpcloud:users.readonly'], 'acme-user-probe': [], 'acme-email-in-domain': [] });

  // The list shows each plugin with its pack.
  const installedRows = page.getByTestId('category-Installed');
  for (const name of ['acme-user-email', 'acme-user-probe', 'acme-email-in-domain']) {
    await expect(installedRows.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) })).toContainText(`pack ${id}`);
  }
  await expect(installedRows.getByRole('row').filter({ has: page.getByRole('link', { name: 'acme-user-email', exact: true }) })).toContainText('jumpcloud:users.readonly / jumpcloud:users.readonly');
  await shot(page, 'pack-list');

  // A plugin of a pack is not removed alone: its page offers removing the pack, naming all its plugins.
  expect((await api<{ error: { code: string } }>(`/plugins/${encodeURIComponent(`acme-user-probe@${pack.pack.version}`)}`, { method: 'DELETE' })).body.error.code).toBe('PLUGIN_IN_PACK');
  await installedRows.getByRole('link', { name: 'acme-user-probe', exact: true }).click();
  await expect(page.getByText('Part of a pack: removed with it.')).toBeVisible();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByRole('button', { name: `Remove pack ${id}` }).click();
  await expect.poll(() => asked).toContain(`Remove the pack ${id} and all its plugins`);
  for (const name of ['acme-user-email', 'acme-user-probe', 'acme-email-in-domain']) expect(asked).toContain(name);
  expect((await api('/plugins/acme')).status).toBe(200);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: `Remove pack ${id}` }).click();
  await expect(page.getByRole('heading', { name: 'Plugins', exact: true })).toBeVisible();
  await expect.poll(async () => (await api('/plugins/acme')).status).toBe(404);
  for (const name of ['acme-user-email', 'acme-user-probe', 'acme-email-in-domain']) expect((await api(`/plugins/${name}`)).status).toBe(404);
  expect(calls.at(-1)).toBe(`DELETE /api/v1/plugins/${encodeURIComponent(id)}`);
});

test('bundled packs are listed by pack and offer no removal', async ({ page }) => {
  const list = (await api<{ plugins: Row[] }>('/plugins')).body.plugins;
  const userGet = list.find((p) => p.name === 'user-get')!;
  expect(userGet.pack?.name).toBe('jumpcloud');
  await signIn(page, '/plugins');
  const label = `pack jumpcloud@${userGet.pack!.version}`;
  await expect(page.getByTestId('plugins').getByRole('row').filter({ has: page.getByRole('link', { name: 'user-get', exact: true }) })).toContainText(label);
  await page.getByRole('link', { name: label }).first().click();
  await expect(page.getByRole('heading', { name: /^Pack jumpcloud/ })).toBeVisible();
  await expect(page.getByTestId('pack-plugins')).toContainText('user-get');
  await expect(page.getByText('Bundled with Sluice.')).toBeVisible();
  await expect(page.getByRole('button', { name: /Remove/ })).toHaveCount(0);
  await page.getByTestId('pack-plugins').getByRole('link', { name: 'user-get', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Input schema' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Remove/ })).toHaveCount(0);
});

test('nodes: the one node of a local store, leading and alive, reached from the navigation', async ({ page }) => {
  const errors = watchErrors(page);
  const { body } = await api<{ node: string; shared: boolean; nodes: { id: string }[] }>('/nodes');
  expect(body.shared).toBe(false);
  expect(body.nodes.map((n) => n.id)).toEqual([body.node]);
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).click();
  await expect(page).toHaveURL(/\/nodes$/);
  await expect(page.getByRole('heading', { name: 'Nodes' })).toBeVisible();
  await expect(page.getByTestId('nodes-summary')).toContainText('local store (sled), so it is the only node');
  const row = page.getByTestId(`node-${body.node}`);
  await expect(row).toContainText('this one');
  await expect(row).toContainText('leader');
  await expect(row).toContainText('alive');
  await shot(page, 'nodes');
  expect(errors).toEqual([]);
});

/** The versioned test plugin (tests/plugins/versioned) the Rust tests build, if built. */
function versionedWasm(): Buffer | null {
  const base = join(import.meta.dirname, '..', '..', 'target', 'plugins', 'wasm32-wasip2');
  for (const profile of ['plugin-dev', 'plugin']) {
    const p = join(base, profile, 'versioned.wasm');
    if (existsSync(p)) return readFileSync(p);
  }
  return null;
}

test('a saved workflow keeps the plugin version it pinned and shows "update available"', async ({ page }) => {
  const v1 = versionedWasm();
  expect(v1, 'tests/plugins/versioned is built by `cargo test` (scripts/test runs it first)').not.toBeNull();
  // 7.7.2: the same component with its version text rewritten (the Rust tests do the same).
  const v2 = Buffer.from(v1!);
  let at = v2.indexOf('7.7.1');
  expect(at).toBeGreaterThan(-1);
  for (; at !== -1; at = v2.indexOf('7.7.1', at + 1)) v2.write('7.7.2', at);
  expect((await api('/plugins', { method: 'POST', body: new Uint8Array(v1!) })).status).toBe(201);
  const doc = 'version: 1\nname: pinned-echo\ntrigger: { type: manual }\nrun_as: Read Only\nsteps:\n  - id: ask\n    uses: versioned\n';
  expect((await api('/workflows', { method: 'POST', body: doc })).status).toBe(201);
  await signIn(page, '/workflows/pinned-echo');
  await expect(page.getByRole('heading', { name: /pinned-echo/ })).toBeVisible();
  await expect(page.getByTestId('update-available')).toHaveCount(0);
  expect((await api('/plugins', { method: 'POST', body: new Uint8Array(v2) })).status).toBe(201);
  await page.reload();
  await expect(page.getByTestId('update-available')).toBeVisible();
  await expect(page.getByTestId('update-available')).toHaveAttribute('title', /pinned versioned@7\.7\.1, now 7\.7\.2/);
  await page.goto(consoleUrl('/workflows'));
  await expect(page.getByTestId('workflow-pinned-echo')).toContainText('update available');
});

test('an interrupted run held at start: resume it from its page, and each step runs once', async ({ page }) => {
  const wasm = hostileWasm();
  expect(wasm, 'tests/plugins/hostile is built by `cargo test` (scripts/test runs it first)').not.toBeNull();
  const held = await interruptedRunService(wasm!);
  try {
    await page.goto(`${held.url}/runs/${held.runId}`);
    await page.getByLabel('API token').fill(held.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const notice = page.getByTestId('interrupted');
    await expect(notice).toBeVisible();
    await expect(page.locator('.page-head .status')).toHaveText('running');
    await expect(page.locator('.page-head')).toContainText('interrupted');
    await expect(page.getByTestId('step-bump2')).toContainText('1 attempt');
    await expect(page.getByTestId('step-slow')).toContainText('not run yet');
    // Nothing runs it while it is held.
    await page.waitForTimeout(1000);
    await expect(page.getByTestId('step-slow')).toContainText('not run yet');
    await shot(page, 'run-interrupted');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(notice).toBeHidden();
    await expect(page.getByRole('button', { name: 'Resume' })).toHaveCount(0);
    await expect(page.locator('.page-head')).toContainText('live');
    await expect(page.locator('.page-head .status')).toHaveText('succeeded', { timeout: 60_000 });
    // The journaled steps were replayed, not run again: each side effect happened once.
    await expect(page.locator('pre.result')).toContainText('"bump3": 1');
    const r = await fetch(`${held.url}/api/v1/runs/${held.runId}`, { headers: { Authorization: `Bearer ${held.token}` } });
    const body = (await r.json()) as { run: { output: unknown }; resumable: boolean };
    expect(body.run.output).toEqual({ bump1: 1, bump2: 1, bump3: 1 });
    expect(body.resumable).toBe(false);
  } finally {
    held.stop();
  }
});
