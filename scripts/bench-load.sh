#!/usr/bin/env bash
# Load on the users list from a second process: a real `roster serve` on
# loopback over a store seeded with 100,000 accounts and 300,000
# memberships, and wrk sending a logged-in viewer's session cookie.
#
#   scripts/bench-load.sh sqlite
#   ROSTER_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
#     scripts/bench-load.sh postgres
#
# Environment: DURATION (15s), THREADS (2), CONNECTIONS (8),
# TARGETS (space-separated paths, default "/users").
# Needs go, wrk and curl; postgres also psql. Everything listens on
# 127.0.0.1 only; the server, its data directory and the PostgreSQL schema
# it creates are removed on exit. The server is killed after 10 minutes at
# the latest.
set -euo pipefail

backend=${1:-sqlite}
DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
TARGETS=${TARGETS:-/users}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=""
schema=""

cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n $schema ]]; then
		PGOPTIONS=--client-min-messages=warning psql -q "$ROSTER_TEST_POSTGRES_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in go wrk curl; do
	command -v "$tool" >/dev/null || { echo "bench-load: $tool is not installed (apt-get install -y $tool)" >&2; exit 1; }
done

echo "== building roster and benchseed"
(cd "$root" && go build -o "$work/roster" ./cmd/roster && go build -o "$work/benchseed" ./scripts/benchseed)

case $backend in
sqlite)
	dsn="$work/data/roster.db"
	mkdir -p -m 0700 "$work/data"
	;;
postgres)
	: "${ROSTER_TEST_POSTGRES_URL:?set ROSTER_TEST_POSTGRES_URL for the postgres backend}"
	command -v psql >/dev/null || { echo "bench-load: psql is not installed" >&2; exit 1; }
	schema="roster_load_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
	psql -q "$ROSTER_TEST_POSTGRES_URL" -c "CREATE SCHEMA $schema" >/dev/null
	sep='?'
	[[ $ROSTER_TEST_POSTGRES_URL == *\?* ]] && sep='&'
	dsn="${ROSTER_TEST_POSTGRES_URL}${sep}search_path=$schema"
	mkdir -p -m 0700 "$work/data"
	;;
*)
	echo "usage: $0 sqlite|postgres" >&2
	exit 2
	;;
esac

echo "== seeding ($backend)"
cookie=$(timeout 300 "$work/benchseed" -database "$dsn")

echo "== starting roster serve on 127.0.0.1"
timeout 600 "$work/roster" serve --data-dir "$work/data" --database "$dsn" \
	--listen 127.0.0.1:0 --log-level warn >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
base=""
for _ in $(seq 1 300); do
	base=$(sed -n 's/^roster serving on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/serve.out")
	[[ -n $base ]] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
	sleep 0.1
done
[[ -n $base ]] || { echo "bench-load: roster serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
echo "   $base"

# Counts answers other than 200 (wrk alone counts 3xx as success, and a
# lost session would answer 303 to /login).
cat >"$work/status.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0 end
function response(status, headers, body)
	if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do n = n + t:get("non200") end
	io.write(string.format("non-200 responses: %d of %d; socket errors: connect %d, read %d, write %d, timeout %d\n",
		n, summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
LUA

for target in $TARGETS; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$target")
	[[ $code == 200 ]] || { echo "bench-load: GET $target answered $code, not 200" >&2; exit 1; }
	echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION $target ($backend)"
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/status.lua" \
		-H "Cookie: $cookie" "$base$target"
done
