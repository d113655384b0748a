#!/usr/bin/env bash
# Runs the Autobahn|Testsuite against parley (npm run autobahn:server / npm run autobahn:client).
#
#   AUTOBAHN_GIT=DIR bash scripts/autobahn.sh server [CASES] [EXCLUDE]
#       starts parley's echo server (permessage-deflate on) on 127.0.0.1:$AUTOBAHN_PORT (9001) and
#       lets the suite's fuzzingclient test it, then stops the server.
#   AUTOBAHN_GIT=DIR bash scripts/autobahn.sh client [CASES] [EXCLUDE]
#       the suite's fuzzingserver listens on 127.0.0.1:9001 and scripts/autobahn-testee.mjs (parley's
#       ws-compatible client, permessage-deflate on) runs every case against it.
#
# AUTOBAHN_GIT   required: a git directory of github:ricardo-valero/autobahn-testsuite (the suite is not
#                stored in this repo).
# CASES/EXCLUDE  JSON lists of case patterns; default: every case of 1.* to 13.* (9.* limits and the
#                12.*/13.* permessage-deflate cases included), nothing excluded. Also settable as
#                AUTOBAHN_CASES / AUTOBAHN_EXCLUDE.
# AUTOBAHN_OUT   report directory (default /tmp/autobahn): servers/ or clients/index.html, one JSON
#                and one HTML file per case.
# AUTOBAHN_ECHO  server mode only: 'cli' (node dist/src/cli/main.js serve --echo --deflate), 'script'
#                (scripts/autobahn-echo.mjs) or 'auto' (default: the CLI if it starts, else the script).
# PARLEY_SHARED  the shared directory holding conformance/autobahn.sh (default: ../shared next to
#                the repository).
# The last line printed is the suite's summary 'N passed, M failed'; exit status 1 if any case failed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
if [ "$mode" != server ] && [ "$mode" != client ]; then
  echo "usage: AUTOBAHN_GIT=DIR bash scripts/autobahn.sh server|client [CASES] [EXCLUDE]" >&2
  exit 2
fi
if [ -z "${AUTOBAHN_GIT:-}" ]; then
  cat >&2 <<MSG
autobahn: AUTOBAHN_GIT is not set.
  The Autobahn|Testsuite is not stored in this repository. Set AUTOBAHN_GIT to a git directory of
  github:ricardo-valero/autobahn-testsuite, e.g.
    git clone --bare https://github.com/ricardo-valero/autobahn-testsuite /tmp/autobahn-testsuite.git
    AUTOBAHN_GIT=/tmp/autobahn-testsuite.git npm run autobahn:$mode
MSG
  exit 2
fi
if ! git --git-dir="$AUTOBAHN_GIT" rev-parse --verify -q HEAD >/dev/null; then
  echo "autobahn: AUTOBAHN_GIT=$AUTOBAHN_GIT is not a git directory with a HEAD commit" >&2
  exit 2
fi
export AUTOBAHN_GIT

shared="${PARLEY_SHARED:-$root/../shared}"
runner="$shared/conformance/autobahn.sh"
if [ ! -f "$runner" ]; then
  echo "autobahn: $runner not found (set PARLEY_SHARED to the directory holding conformance/autobahn.sh)" >&2
  exit 2
fi

all_cases='["1.*","2.*","3.*","4.*","5.*","6.*","7.*","8.*","9.*","10.*","11.*","12.*","13.*"]'
cases="${2:-${AUTOBAHN_CASES:-$all_cases}}"
exclude="${3:-${AUTOBAHN_EXCLUDE:-[]}}"
out="${AUTOBAHN_OUT:-/tmp/autobahn}"
export AUTOBAHN_OUT="$out"
mkdir -p "$out"

cd "$root"
if [ ! -f dist/src/index.js ]; then
  echo "autobahn: dist/ missing, building (npx tsc -p tsconfig.json)..." >&2
  # tsc emits JS even when unrelated files have type errors; only the output matters here.
  npx tsc -p tsconfig.json >"$out/tsc.log" 2>&1 || true
  if [ ! -f dist/src/index.js ]; then
    echo "autobahn: build failed, see $out/tsc.log" >&2
    exit 2
  fi
fi

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Runs the shared runner in its own process group and, once it returns, ends whatever it left
# behind: in client mode it execs the summary without stopping the suite's fuzzingserver (its EXIT
# trap does not run across exec, and it only kills the subshell, not the Python process).
runner_pg=
end_runner() {
  if [ -n "$runner_pg" ]; then kill -- "-$runner_pg" 2>/dev/null || true; fi
  runner_pg=
}
run_suite() {
  local rc=0
  setsid bash "$runner" "$@" &
  runner_pg=$!
  wait "$runner_pg" || rc=$?
  end_runner
  return "$rc"
}

engine="ws stand-in"
grep -qE "^[[:space:]]*(import|export)[^/]*from ['\"]ws['\"]" src/index.ts 2>/dev/null || engine="parley engine"
echo "autobahn: mode $mode, engine: $engine (src/index.ts), node $(node --version), cases $cases, exclude $exclude" >&2

if [ "$mode" = client ]; then
  # The suite's fuzzingserver always listens on 9001: refuse to run against someone else's server.
  if port_open 9001; then
    echo "autobahn: port 9001 is already in use; client mode needs it for the suite's fuzzingserver" >&2
    exit 2
  fi
  trap end_runner EXIT INT TERM
  testee="node $(printf %q "$root/scripts/autobahn-testee.mjs") ws://127.0.0.1:9001 parley"
  status=0
  run_suite client "$testee" "$cases" "$exclude" || status=$?
  exit "$status"
fi

# Server mode.
port="${AUTOBAHN_PORT:-9001}"
if port_open "$port"; then
  echo "autobahn: port $port is already in use; stop that server or set AUTOBAHN_PORT" >&2
  exit 2
fi
srv=
stop_server() {
  if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then
    kill "$srv" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$srv" 2>/dev/null || true
  fi
  srv=
}
trap 'end_runner; stop_server' EXIT INT TERM

# Starts the echo server given as arguments; succeeds once our process accepts on $port.
start_server() {
  "$@" >"$out/echo-server.log" 2>&1 &
  srv=$!
  for _ in $(seq 100); do
    if ! kill -0 "$srv" 2>/dev/null; then srv=; return 1; fi
    if port_open "$port"; then return 0; fi
    sleep 0.1
  done
  stop_server
  return 1
}

cli=(node dist/src/cli/main.js serve --echo --deflate --port "$port" --host 127.0.0.1)
script=(node scripts/autobahn-echo.mjs --port "$port" --host 127.0.0.1)
choice="${AUTOBAHN_ECHO:-auto}"
case "$choice" in
  cli)
    start_server "${cli[@]}" || { echo "autobahn: '${cli[*]}' did not start, see $out/echo-server.log" >&2; exit 2; }
    ;;
  script)
    start_server "${script[@]}" || { echo "autobahn: '${script[*]}' did not start, see $out/echo-server.log" >&2; exit 2; }
    ;;
  auto)
    if [ -f dist/src/cli/main.js ] && start_server "${cli[@]}"; then
      choice=cli
    else
      echo "autobahn: parley CLI echo server unavailable ($(tail -n 1 "$out/echo-server.log" 2>/dev/null || echo 'dist/src/cli/main.js missing')); using scripts/autobahn-echo.mjs" >&2
      start_server "${script[@]}" || { echo "autobahn: '${script[*]}' did not start, see $out/echo-server.log" >&2; exit 2; }
      choice=script
    fi
    ;;
  *)
    echo "autobahn: AUTOBAHN_ECHO must be cli, script or auto" >&2
    exit 2
    ;;
esac
if [ "$choice" = cli ]; then echo "autobahn: echo server: ${cli[*]}" >&2; else echo "autobahn: echo server: ${script[*]}" >&2; fi

status=0
run_suite server "ws://127.0.0.1:$port" "$cases" "$exclude" || status=$?
if [ -n "$srv" ] && ! kill -0 "$srv" 2>/dev/null; then
  echo "autobahn: the echo server exited during the run, see $out/echo-server.log" >&2
  status=1
fi
stop_server
exit "$status"
