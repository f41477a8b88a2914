// What the end-to-end tests share: the service under test, its API, sign-in, screenshots,
// and a second service holding an interrupted run.
import { expect, type Page } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

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

/** A second `sluice serve` holding an interrupted run (see {@link interruptedRunService}). */
export interface HeldService {
  url: string;
  token: string;
  runId: string;
  stop: () => void;
}

/**
 * A fresh data dir where a run of tests/fixtures/crash.yaml (the test plugin `hostile`,
 * side effects counted in its state) was killed in the middle of its slow step, served by
 * `sluice serve --no-resume`, so the run is held unfinished for an administrator. It
 * serves the console embedded in the binary (also under E2E_DEV).
 */
export async function interruptedRunService(hostileWasm: string): Promise<HeldService> {
  const root = join(import.meta.dirname, '..', '..');
  const bin = resolve(process.env.SLUICE_BIN ?? join(root, 'target', 'release', 'sluice'));
  const data = mkdtempSync(join(tmpdir(), 'sluice-e2e-held-'));
  // The compiled components the main service uses, so this data dir compiles none again.
  const cache = process.env.SLUICE_CACHE_DIR ?? join(root, 'target', 'tmp', 'component-cache');
  const env = { ...process.env, SLUICE_DATA_DIR: data, SLUICE_CACHE_DIR: cache };
  const token = JSON.parse(execFileSync(bin, ['token', 'create', '--name', 'e2e', '--json'], { env }).toString()).token as string;
  execFileSync(bin, ['plugin', 'install', hostileWasm, '--grant', 'state'], { env, stdio: 'ignore' });
  const runId = await new Promise<string>((ok, fail) => {
    const run = spawn(bin, ['run', 'tests/fixtures/crash.yaml'], { env, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => (run.kill('SIGKILL'), fail(new Error('the crash run never reached bump2 in 60 s'))), 60_000);
    let id: string | undefined;
    createInterface({ input: run.stderr! }).on('line', (line) => {
      const m = line.match(/^run (\S+)/);
      if (m) id ??= m[1];
      if (line.trim() === 'bump2 ok') {
        clearTimeout(timer);
        // The slow step spins for 3 s: kill the process in the middle of it.
        setTimeout(() => {
          run.kill('SIGKILL');
          if (id) ok(id);
          else fail(new Error('the run did not print its id'));
        }, 300);
      }
    });
    run.once('error', fail);
  });
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--no-resume'], { env, cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('sluice serve did not start in 30 s')), 30_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const m = line.match(/listening on (\S+)/);
      if (m) ok(m[1]);
      else fail(new Error(`unexpected first line: ${line}`));
    });
    child.once('exit', (code) => fail(new Error(`sluice serve exited with ${code}`)));
  });
  return {
    url,
    token,
    runId,
    stop: () => {
      child.kill('SIGTERM');
      child.once('exit', () => rmSync(data, { recursive: true, force: true }));
    },
  };
}
