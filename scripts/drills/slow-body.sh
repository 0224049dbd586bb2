#!/usr/bin/env bash
# Drill: the slow-body attack. CONNS connections each send a request head announcing
# `Content-Length: 1000` for POST /api/v1/auth/login, then trickle the body one byte
# every 200 ms, never finishing it. Each must be answered 408 (REQUEST_TIMEOUT) within
# the configured body timeout plus a second's slack, and a normal request (GET
# /api/v1/courses) sent meanwhile, once a second, must be served promptly.
#
#   scripts/drills/slow-body.sh                 # 500 connections, 3 s body timeout
#   CONNS=2000 scripts/drills/slow-body.sh
#
# Environment: CONNS (default 500), BODY_TIMEOUT (seconds, default 3), BIN, KEEP (lib.sh).
# Prints the 408s and their times (min, p50, max), other outcomes, and the normal
# request's latency (p50, max) during the attack; exits 1 when a property fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/drills/lib.sh

CONNS=${CONNS:-500}
BODY_TIMEOUT=${BODY_TIMEOUT:-3}
need_bin edupro-server
export EDUPRO_BODY_TIMEOUT=$BODY_TIMEOUT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_server
say "$CONNS slow bodies against $url, body timeout ${BODY_TIMEOUT}s"

timeout 120 python3 - "$port" "$CONNS" "$BODY_TIMEOUT" <<'PY'
import asyncio, sys, time

port, conns, body_timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
HEAD = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: drill\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")

async def slow_body(results):
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        results.append(("connect failed: " + type(e).__name__, 0.0))
        return
    writer.write(HEAD)
    async def trickle():
        try:
            while True:
                await asyncio.sleep(0.2)
                writer.write(b" ")
                await writer.drain()
        except (OSError, ConnectionError):
            pass
    dripping = asyncio.create_task(trickle())
    try:
        answer = await asyncio.wait_for(reader.read(65536), timeout=body_timeout + 30)
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "closed without an answer"
        if status == "408" and b"REQUEST_TIMEOUT" not in answer:
            status = "408 without the envelope"
    except asyncio.TimeoutError:
        status = "no answer in %.0f s" % (body_timeout + 30)
    except (OSError, ConnectionError) as e:
        status = "connection error: " + type(e).__name__
    results.append((status, time.monotonic() - started))
    dripping.cancel()
    writer.close()

async def normal(latencies, stop):
    while not stop.is_set():
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/v1/courses?limit=5 HTTP/1.1\r\nHost: drill\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
        latencies.append((answer[:12].decode(errors="replace"), time.monotonic() - started))
        writer.close()
        await asyncio.sleep(1)

async def main():
    results, latencies, stop = [], [], asyncio.Event()
    prober = asyncio.create_task(normal(latencies, stop))
    await asyncio.sleep(0.1)
    # Open the attack in waves of 100 so the listen backlog never overflows.
    tasks = []
    for i in range(0, conns, 100):
        tasks += [asyncio.create_task(slow_body(results)) for _ in range(min(100, conns - i))]
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    stop.set()
    await prober
    ok = sorted(t for s, t in results if s == "408")
    other = {}
    for s, _ in results:
        if s != "408":
            other[s] = other.get(s, 0) + 1
    q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")
    print(f"slow-body: {len(ok)}/{conns} answered 408 in {q(ok, 0):.2f}..{q(ok, 1):.2f} s (p50 {q(ok, .5):.2f} s)")
    if other:
        print(f"slow-body: other outcomes: {other}")
    lat = sorted(t for _, t in latencies)
    bad = [s for s, _ in latencies if not s.startswith("HTTP/1.1 200")]
    print(f"slow-body: normal request during the attack: {len(lat)} sent, p50 {q(lat, .5)*1000:.0f} ms, "
          f"max {q(lat, 1)*1000:.0f} ms, not 200: {len(bad)}")
    failed = []
    if len(ok) != conns:
        failed.append(f"{conns - len(ok)} slow bodies were not answered 408")
    if ok and ok[-1] > body_timeout + 1:
        failed.append(f"a 408 came after {ok[-1]:.2f} s (timeout {body_timeout:.0f} s + 1 s)")
    if bad or not lat:
        failed.append(f"normal requests failed: {bad}")
    elif lat[-1] > 2.0:
        failed.append(f"a normal request took {lat[-1]*1000:.0f} ms during the attack")
    if failed:
        print("slow-body: FAILED: " + "; ".join(failed), file=sys.stderr)
        sys.exit(1)

asyncio.run(main())
PY
kill -0 "$server_pid" || die "the server died"
say "server RSS after: $(( $(rss_kib "$server_pid") / 1024 )) MiB"
say "OK"
