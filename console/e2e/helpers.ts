// What the end-to-end tests share: the service under test, its API, sign-in, screenshots.
import { expect, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const service = () => process.env.SLUICE_E2E_URL!;
export const consoleUrl = (path = '/') => process.env.SLUICE_E2E_CONSOLE! + path;
export const token = () => process.env.SLUICE_E2E_TOKEN!;

/** The repository's file at `path`. */
export const repoFile = (path: string) => readFileSync(join(import.meta.dirname, '..', '..', path), 'utf8');

/** Calls the API directly (to check what the console did). */
export async function api<T = unknown>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const r = await fetch(`${service()}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token()}`, ...(init.headers ?? {}) } });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function signIn(page: Page, path = '/') {
  await page.goto(consoleUrl(path));
  await page.getByLabel('API token').fill(token());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

/** Saves a screenshot of the page as artifacts/NAME.png (git-ignored). */
export async function shot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Replaces the YAML editor's whole text, as typing would. */
export async function replaceYaml(page: Page, text: string) {
  const editor = page.locator('.cm-content');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** The editor's text. */
export async function yamlText(page: Page): Promise<string> {
  return page.locator('.cm-content').evaluate((el) => {
    const view = (el as unknown as { cmView?: { view: { state: { doc: { toString(): string } } } } }).cmView;
    return view ? view.view.state.doc.toString() : (el as HTMLElement).innerText;
  });
}

/** Collects the page's console errors and uncaught exceptions (a CSP violation is one). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}
