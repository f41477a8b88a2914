// The console's API types (api-schema.ts) are generated from the OpenAPI document; this
// fails while they are stale, i.e. the document changed and `npm run api-schema` was not run.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';

test('api-schema.ts is what runtime/src/api/openapi.json generates', { timeout: 60_000 }, () => {
  const script = join(import.meta.dirname, '..', 'scripts', 'api-schema.mjs');
  let failure = '';
  try {
    execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
  } catch (e) {
    failure = String((e as { stderr?: Buffer }).stderr ?? e);
  }
  expect(failure).toBe('');
});
