#!/usr/bin/env bash
# Runs Socket.IO's language-neutral protocol test suites against parley's reference servers:
#   docs/engine.io-protocol/v4-test-suite  against  parley serve --engine-io
#   docs/socket.io-protocol/v5-test-suite  against  parley serve --io
#
# Usage: SOCKETIO_GIT=/path/to/socket.io/.git npm run conformance:socketio
#   SOCKETIO_GIT  a git directory (or work tree) of github:socketio/socket.io; the suites are
#                 exported from it into a temporary directory, never into this repository.
#   SOCKETIO_REF  the commit to export (default HEAD).
#   KEEP_TMP=1    keep the temporary directory (logs, installed suites) for inspection.
# Both suites connect to http://localhost:3000, so they run one after the other. Needs network
# access to the npm registry for the suites' dev dependencies (mocha, chai, node-fetch, ws).
# Exit status: 0 when both suites pass, 1 when a test fails, 2 on a setup problem.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=3000

die() { echo "conformance: $*" >&2; exit 2; }

[ -n "${SOCKETIO_GIT:-}" ] || die "set SOCKETIO_GIT to a git directory of github:socketio/socket.io"
# A work tree (with .git inside) or a bare git directory such as the fetch tool's mirror.
if [ -e "$SOCKETIO_GIT/.git" ]; then GIT=(git -C "$SOCKETIO_GIT"); else GIT=(git --git-dir="$SOCKETIO_GIT"); fi
"${GIT[@]}" rev-parse --verify -q "${SOCKETIO_REF:-HEAD}^{commit}" >/dev/null \
  || die "SOCKETIO_GIT=$SOCKETIO_GIT is not a git repository with ${SOCKETIO_REF:-HEAD}"
COMMIT=$("${GIT[@]}" rev-parse "${SOCKETIO_REF:-HEAD}^{commit}")

if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
  die "port $PORT is in use; the suites connect to http://localhost:$PORT"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/parley-socketio-conformance.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$TMP"; else echo "conformance: kept $TMP"; fi
}
trap cleanup EXIT

SUITES=(docs/engine.io-protocol/v4-test-suite docs/socket.io-protocol/v5-test-suite)
echo "conformance: socket.io ${COMMIT:0:12}, suites exported to $TMP"
for suite in "${SUITES[@]}"; do
  # Archive the suite's own tree: a partial clone may lack blobs elsewhere in the repository.
  "${GIT[@]}" archive --prefix="$suite/" "$COMMIT:$suite" | tar -x -C "$TMP" || die "cannot export $suite"
done

for suite in "${SUITES[@]}"; do
  echo "conformance: installing the dev dependencies of $suite"
  (cd "$TMP/$suite" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in $suite"
done

if [ ! -f dist/src/cli/main.js ] || [ -n "$(find src -newer dist/src/cli/main.js -name '*.ts' -print -quit)" ]; then
  echo "conformance: building parley"
  if ! npx tsc -p tsconfig.json >"$TMP/tsc.log"; then
    # tsc still emits on type errors; go on with a warning if the CLI was built.
    [ -f dist/src/cli/main.js ] || { cat "$TMP/tsc.log" >&2; die "build failed"; }
    echo "conformance: warning: tsc reported errors (see $TMP/tsc.log); using the emitted output" >&2
  fi
fi

# run_suite NAME SERVE_FLAG SUITE_DIR: starts the reference server, runs the suite, stops the server.
run_suite() {
  local name=$1 flag=$2 dir=$3 log="$TMP/$1-server.log"
  node "$ROOT/dist/src/cli/main.js" serve "$flag" --port "$PORT" --quiet 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$log" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; die "parley serve $flag exited"; }
    sleep 0.1
  done
  grep -q 'listening on' "$log" || die "parley serve $flag did not start"
  echo
  echo "=== $name: $dir against parley serve $flag ==="
  local status=0
  (cd "$TMP/$dir" && npx mocha --reporter spec test-suite.js) 2>&1 | tee "$TMP/$name.log" || status=$?
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  return "$status"
}

failed=0
run_suite engine.io --engine-io docs/engine.io-protocol/v4-test-suite || failed=1
run_suite socket.io --io docs/socket.io-protocol/v5-test-suite || failed=1

echo
echo "=== summary (socket.io ${COMMIT:0:12}) ==="
for name in engine.io socket.io; do
  counts=$(grep -E '^\s+[0-9]+ (passing|failing|pending)' "$TMP/$name.log" | sed -E 's/^\s+//; s/ \(.*\)$//' | paste -sd, - | sed 's/,/, /g')
  echo "$name protocol test suite: ${counts:-no result}"
done
exit "$failed"
