import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/directory/errors.js';
import { GRAPH_ERROR_CODES } from '../../src/graph/errors.js';
import { RUN_ERRORS, runError } from '../../src/services/run-errors.js';
import { errorTableRows } from '../support/docs.js';

const documentedRows = () => errorTableRows('Sync run errors');

describe('docs/errors.md, sync run errors', () => {
  it('lists exactly the run-level codes of the catalog, with retry and sentence', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(RUN_ERRORS).sort());
    for (const [code, spec] of Object.entries(RUN_ERRORS))
      expect(rows.get(code), code).toEqual([spec.retry ? 'yes' : 'no', spec.sentence]);
  });

  it('holds only codes that are neither application nor Graph errors (those have their own sections)', () => {
    const others = new Set<string>([...Object.keys(ERROR_CODES), ...GRAPH_ERROR_CODES]);
    for (const code of Object.keys(RUN_ERRORS)) expect(others.has(code), code).toBe(false);
  });

  it('a run records the code with its catalog sentence', () => {
    expect(runError('worker_lost')).toEqual({
      code: 'worker_lost',
      message: RUN_ERRORS.worker_lost.sentence,
    });
  });
});
