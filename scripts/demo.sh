#!/usr/bin/env bash
# The demo, end to end on this machine, after installing whatever is missing.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/scripts/setup.sh" || exit $?
cd "$here" || exit 1
exec node dist/cli.js demo "$@"
