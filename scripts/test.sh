#!/usr/bin/env bash
# The whole test suite, after installing whatever is missing (scripts/setup.sh).
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/scripts/setup.sh" || exit $?
cd "$here" || exit 1
# Unused files, exports and dependencies fail the run (knip.json); vitest runs either way.
node node_modules/knip/bin/knip.js
unused=$?
report="$(mktemp)"
node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
[ "$status" -eq 0 ] && [ "$unused" -ne 0 ] && echo "knip: unused code or dependencies (above); the tests passed" && status=$unused
# A closing line any CI can read: "N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" 2>/dev/null || true
rm -f "$report"
exit $status
