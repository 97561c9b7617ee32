import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/directory/errors.js';
import { errorTableRows } from '../support/docs.js';

const documentedRows = () => errorTableRows('Application errors');

describe('docs/errors.md, application errors', () => {
  it('lists exactly the codes of the catalog, with their HTTP status, exit code and meaning', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), code).toEqual([String(spec.status), spec.input ? '2' : '1', spec.meaning]);
    }
  });
});
