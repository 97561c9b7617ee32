import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE, openApiText } from '../../tools/openapi.js';

describe('docs/openapi.json', () => {
  it('is the document the routes describe (npm run docs:openapi writes it)', async () => {
    const served = await openApiText();
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    // Compared as objects first, so a failure shows the paths that differ, not 8,000 lines.
    expect(JSON.parse(committed), 'docs/openapi.json is out of date: run npm run docs:openapi').toEqual(
      JSON.parse(served),
    );
    expect(committed).toBe(served);
  });
});
