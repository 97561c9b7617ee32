/**
 * `npm run docs:config`: writes README.md's Configuration table from CONFIG_VARIABLES
 * (src/config.ts), between its `config:begin` and `config:end` markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable } from '../src/config.js';
import { README, readmeWithConfigTable } from './readme.js';

const before = readFileSync(README, 'utf8');
const after = readmeWithConfigTable(before, configTable());
writeFileSync(README, after);
process.stdout.write(
  after === before ? 'README.md: the table was up to date\n' : 'README.md: table rewritten\n',
);
