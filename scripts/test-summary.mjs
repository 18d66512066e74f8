#!/usr/bin/env node
// Prints `N passed, N failed[, N skipped]` from vitest's JSON report; exits 1 when anything failed
// or when no test ran at all (an empty run is not a green run).
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? '.vitest/results.json'
const report = JSON.parse(readFileSync(file, 'utf8'))
const passed = report.numPassedTests ?? 0
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0)
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
// Files that failed to load report no tests; count them so a broken file is never silent.
const brokenFiles = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
).length
const totalFailed = Math.max(failed, brokenFiles + (report.numFailedTests ?? 0))
console.log(`${passed} passed, ${totalFailed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(totalFailed > 0 || passed === 0 ? 1 : 0)
