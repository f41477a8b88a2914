// Generates src/api-schema.ts, the TypeScript types of the API, from the OpenAPI document the
// service serves (runtime/src/api/openapi.json) with openapi-typescript: `npm run api-schema`.
// With --check it writes nothing and fails when the file is not what the document gives
// (the unit tests run it), so the console's types cannot drift from the API.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = dirname(fileURLToPath(import.meta.url));
const document = join(here, '..', '..', 'runtime', 'src', 'api', 'openapi.json');
const output = join(here, '..', 'src', 'api-schema.ts');

const BANNER = `// The types of the Sluice API, generated from runtime/src/api/openapi.json by
// console/scripts/api-schema.mjs (openapi-typescript). Do not edit: change the document and
// run \`npm run api-schema\`; the unit tests fail while this file is stale.

`;

const text = BANNER + astToString(await openapiTS(pathToFileURL(document)));

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(output, 'utf8');
  } catch {
    // Missing: stale.
  }
  if (current !== text) {
    console.error('console/src/api-schema.ts is stale: run `npm run api-schema` in console/ after changing runtime/src/api/openapi.json');
    process.exit(1);
  }
} else {
  writeFileSync(output, text);
}
