#!/usr/bin/env bash
# Go<->Go smoke matrix for smux-peer: server version x client version x
# protocol version x mode, 100 concurrent streams each, plus throughput runs.
# Usage: ./smoke.sh [bin-dir]   (build both binaries into bin/ first; see README.md)
# Env: VERSIONS, MODES (empty: throughput only), STREAMS, CLIENT_FLAGS (extra client flags),
#      OPEN_CLOSE=0|1, THROUGHPUT=0|1, DURATION (default 5s), TP_HASH (set empty to hash during throughput runs).
set -u
BIN=${1:-"$(dirname "$0")/bin"}
VERSIONS=${VERSIONS:-"v1.5.16 v1.5.58"}
MODES=${MODES-"echo checksum script"}
STREAMS=${STREAMS:-100}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

start_server() { # $1 binary, rest: flags; sets SPID and ADDR
	local bin=$1; shift
	rm -f "$TMP/srv.out" "$TMP/srv.err" "$TMP/cli.out" "$TMP/cli.err" "$TMP/stdin"
	mkfifo "$TMP/stdin"
	# stdin is a FIFO we hold open on fd 9: closing it is the parent dying.
	"$bin" -role server -exit-on-stdin-eof "$@" >"$TMP/srv.out" 2>"$TMP/srv.err" <"$TMP/stdin" &
	SPID=$!
	exec 9>"$TMP/stdin"
	for _ in $(seq 100); do
		ADDR=$(head -1 "$TMP/srv.out" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["addr"])' 2>/dev/null) && [ -n "$ADDR" ] && return 0
		sleep 0.05
	done
	echo "server did not start"; cat "$TMP/srv.err"; return 1
}

# wait_server: a -sessions 1 server exits by itself; if it has not within 15 s,
# close its stdin (it must then exit), and as a last resort signal it.
wait_server() {
	for _ in $(seq 150); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	exec 9>&-
	for _ in $(seq 30); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	exec 9>&- 2>/dev/null
}

# check <label> : verifies client and server output in $TMP
check() {
	python3 - "$1" "$TMP/cli.out" "$TMP/srv.out" "$STREAMS_EXPECTED" <<'PY'
import json, sys
label, cli, srv, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def lines(p):
    return [json.loads(l) for l in open(p) if l.strip()]
c, s = lines(cli), lines(srv)
done = [e for e in c if e["event"] == "done"]
cs = [e for e in c if e["event"] == "stream"]
ss = [e for e in s if e["event"] == "stream"]
problems = []
if not done: problems.append("no done event")
else:
    d = done[0]
    if d["errors"]: problems.append("client errors=%d" % d["errors"])
    if d["streams"] != want: problems.append("client streams=%d" % d["streams"])
if len(ss) != want: problems.append("server streams=%d" % len(ss))
bad = [e for e in cs + ss if e["err"]]
if bad: problems.append("stream errors: %s" % bad[0]["err"])
# the client's outgoing digest must be what the server read (and vice versa)
sin = {e["id"]: e for e in ss}
for e in cs:
    o = sin.get(e["id"])
    if o and (o["sha256In"] != e["sha256Out"] and e["mode"] != "checksum"):
        problems.append("digest mismatch on stream %d" % e["id"]); break
closed = [e for e in s if e["event"] == "session-closed"]
kind = closed[0]["kind"] if closed else "none"
mb = done[0]["mbytesPerSec"] if done else 0
print("%-48s %s  server-session=%s  %.1f MB/s%s" % (label, "OK  " if not problems else "FAIL", kind, mb,
      "" if not problems else "  " + "; ".join(problems)))
sys.exit(1 if problems else 0)
PY
}

for sv in $VERSIONS; do for cv in $VERSIONS; do for proto in 1 2; do for mode in $MODES; do
	extra=() srv_extra=()
	case $mode in
	echo) extra=(-bytes 262144 -content random) ;;
	checksum) extra=(-random-max 300000 -seed 7 -content random) ;;
	# v1.5.16 clients drop data written right after accept: the client asks first.
	source) extra=(-source-request -random-max 300000) srv_extra=(-source-request) ;;
	esac
	start_server "$BIN/smux-peer-$sv" -version "$proto" -mode "$mode" -sessions 1 "${srv_extra[@]}" || { fail=1; continue; }
	"$BIN/smux-peer-$cv" -role client -connect "$ADDR" -version "$proto" -mode "$mode" -streams "$STREAMS" "${extra[@]}" ${CLIENT_FLAGS:-} \
		>"$TMP/cli.out" 2>"$TMP/cli.err" 9>&-
	rc=$?
	wait_server
	STREAMS_EXPECTED=$STREAMS check "server $sv / client $cv / v$proto / $mode (rc=$rc)" || fail=1
	[ $rc -eq 0 ] || { fail=1; cat "$TMP/cli.err"; }
done; done; done; done

# Open and close streams in a row: 4 workers x 500 streams, v1 and v2.
if [ "${OPEN_CLOSE:-1}" = 1 ]; then
	for sv in $VERSIONS; do for cv in $VERSIONS; do for proto in 1 2; do
		start_server "$BIN/smux-peer-$sv" -version "$proto" -mode echo -sessions 1 || { fail=1; continue; }
		"$BIN/smux-peer-$cv" -role client -connect "$ADDR" -version "$proto" -mode echo -streams 4 -open-close 500 -bytes 100 \
			>"$TMP/cli.out" 2>"$TMP/cli.err" 9>&-
		rc=$?
		wait_server
		STREAMS_EXPECTED=2000 check "open-close server $sv / client $cv / v$proto (rc=$rc)" || fail=1
	done; done; done
fi

if [ "${THROUGHPUT:-1}" = 1 ]; then
	for v in $VERSIONS; do for n in 1 100; do
		# -no-hash: SHA-256 would cost more CPU than smux itself.
		start_server "$BIN/smux-peer-$v" -version 2 -mode discard -stream-buffer 524288 -sessions 1 ${TP_HASH--no-hash} || { fail=1; continue; }
		"$BIN/smux-peer-$v" -role client -connect "$ADDR" -version 2 -mode discard -streams "$n" \
			-stream-buffer 524288 -duration "${DURATION:-5s}" ${TP_HASH--no-hash} >"$TMP/cli.out" 2>"$TMP/cli.err" 9>&-
		rc=$?
		wait_server
		STREAMS_EXPECTED=$n check "throughput $v v2 discard, $n stream(s), 512 KiB (rc=$rc)" || fail=1
	done; done
fi
exit $fail
