#!/usr/bin/env node
// Prints each failed test of one or more vitest JSON reports as one line, so the end of a CI log names what failed
// (vitest's own output is long and CI may keep only its tail):
//   failed [LABEL] test/e2e/x.test.ts > suite > test: AssertionError: first line of the message
// Usage: node scripts/failures.mjs LABEL REPORT.json [LABEL REPORT.json ...]   (a missing report is skipped)
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  const [label, file] = [args[i], args[i + 1]];
  if (!existsSync(file)) continue;
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`failed [${label}] ${file}: unreadable report (${err.message})`);
    continue;
  }
  for (const suite of report.testResults ?? []) {
    const name = relative(process.cwd(), suite.name);
    const failed = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failed) {
      const message = firstLine(t.failureMessages?.[0]);
      console.log(`failed [${label}] ${name} > ${t.fullName}${message ? `: ${message}` : ''}`);
    }
    // A file that failed without a failed test (an import error, a hook that threw) carries its own message.
    if (suite.status === 'failed' && failed.length === 0) {
      console.log(`failed [${label}] ${name}: ${firstLine(suite.message) || 'the file failed outside its tests'}`);
    }
  }
}

/** The first non-empty line of a failure message, without ANSI colours, cut at 300 characters. */
function firstLine(text) {
  if (!text) return '';
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 300);
}
