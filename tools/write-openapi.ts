/** `npm run docs:openapi`: writes docs/openapi.json from the route schemas (tools/openapi.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { OPENAPI_FILE, openApiText } from './openapi.js';

const text = await openApiText();
let before = '';
try {
  before = readFileSync(OPENAPI_FILE, 'utf8');
} catch {
  // First time: nothing committed yet.
}
writeFileSync(OPENAPI_FILE, text);
process.stdout.write(text === before ? 'docs/openapi.json was up to date\n' : 'docs/openapi.json written\n');
