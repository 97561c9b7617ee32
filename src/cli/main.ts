#!/usr/bin/env node
import { buildProgram } from './program.js';
import { runProgram } from './run.js';

// `entrasync … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runProgram(buildProgram(), process.argv);
