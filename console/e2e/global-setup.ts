// Starts `sluice serve` (target/release/sluice, or SLUICE_BIN) on 127.0.0.1:0 with a fresh
// data dir and an admin token made by `sluice token create`; with E2E_DEV=1 also a Vite dev
// server proxying to it (to work on the console without rebuilding the binary), with
// E2E_DEV=preview Vite's preview of the production build in dist/.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const KEY = '6a1f0c3e5d7a2b4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f8aa';

export default async function setup() {
  const bin = resolve(process.env.SLUICE_BIN ?? join(import.meta.dirname, '..', '..', 'target', 'release', 'sluice'));
  if (!existsSync(bin)) throw new Error(`no sluice binary at ${bin}: build it with \`cargo build --release -p sluice\` (or set SLUICE_BIN)`);
  const data = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  // Compiled components are shared with the rest of the suite (see scripts/test).
  const cache = process.env.SLUICE_CACHE_DIR ?? join(import.meta.dirname, '..', '..', 'target', 'tmp', 'component-cache');
  const env = { ...process.env, SLUICE_DATA_DIR: data, SLUICE_SECRET_KEY: KEY, SLUICE_CACHE_DIR: cache };
  const token = JSON.parse(execFileSync(bin, ['token', 'create', '--name', 'e2e', '--json'], { env }).toString()).token as string;
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--poll-interval', '1s'], { env, stdio: ['ignore', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '..', '..') });
  const url = await new Promise<string>((ok, fail) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error('sluice serve did not start in 30 s')), 30_000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      const m = line.match(/listening on (\S+)/);
      if (m) ok(m[1]);
      else fail(new Error(`unexpected first line: ${line}`));
    });
    child.once('exit', (code) => fail(new Error(`sluice serve exited with ${code}`)));
  });
  // The first validation compiles the bundled plugins for this data dir: do it now, not
  // inside a test's time limit.
  const warm = await fetch(`${url}/api/v1/validate`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: 'version: 1\nname: warm\ntrigger: { type: manual }\nrun_as: Read Only\nsteps:\n  - { id: a, uses: transform }\n' });
  if (!warm.ok) throw new Error(`warming up: ${warm.status} ${await warm.text()}`);
  let consoleUrl = url;
  let vitePid: number | undefined;
  if (process.env.E2E_DEV === '1' || process.env.E2E_DEV === 'preview') {
    // `preview` serves the production build in dist/ (as the binary would) without
    // rebuilding the binary.
    const mode = process.env.E2E_DEV === 'preview' ? ['preview'] : [];
    const vite = spawn(process.execPath, ['node_modules/vite/bin/vite.js', ...mode, '--port', '5199', '--strictPort', '--host', '127.0.0.1'], { env: { ...process.env, SLUICE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '..') });
    vitePid = vite.pid;
    await new Promise<void>((ok) => createInterface({ input: vite.stdout! }).on('line', (l) => l.includes('5199') && ok()));
    consoleUrl = 'http://127.0.0.1:5199';
  }
  // Read by the tests (workers inherit this environment) and by the teardown.
  Object.assign(process.env, {
    SLUICE_E2E_DATA: data,
    SLUICE_E2E_PID: String(child.pid),
    SLUICE_E2E_VITE_PID: vitePid === undefined ? '' : String(vitePid),
  });
  process.env.SLUICE_E2E_URL = url;
  process.env.SLUICE_E2E_CONSOLE = consoleUrl;
  process.env.SLUICE_E2E_TOKEN = token;
  child.unref();
}
