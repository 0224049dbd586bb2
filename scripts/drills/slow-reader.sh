#!/usr/bin/env bash
# Drill: the slow-reader attack. CONNS connections, each with a 4 KiB receive buffer,
# ask for the largest answer the server has without signing in (the OpenAPI document,
# GET /api/v1/openapi.json, several hundred KiB) PIPELINE times and never read a byte.
# The server's memory (RSS) must stay bounded — it grows by less than BOUND_MIB — and a
# normal request sent meanwhile, once a second, must be served promptly.
#
#   scripts/drills/slow-reader.sh                # 500 connections
#   CONNS=2000 scripts/drills/slow-reader.sh
#
# Environment: CONNS (default 500), PIPELINE (requests per connection, default 4),
# HOLD (seconds the readers stay stuck, default 8), BOUND_MIB (default 256), BIN, KEEP.
# Prints the document's size, the RSS before, at its highest while the readers are stuck
# and after they leave, and the normal request's latency (p50, max); exits 1 when a
# property fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/drills/lib.sh

CONNS=${CONNS:-500}
PIPELINE=${PIPELINE:-4}
HOLD=${HOLD:-8}
BOUND_MIB=${BOUND_MIB:-256}
need_bin edupro-server
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_server
size=$(curl -fsS "$url/api/v1/openapi.json" | wc -c)
# Warm the server up (workers, allocator) so the baseline is not its first seconds.
for _ in 1 2 3; do curl -fsS -o /dev/null "$url/api/v1/openapi.json"; done
rss_before=$(rss_kib "$server_pid")
say "$CONNS stuck readers x $PIPELINE requests for a $(( size / 1024 )) KiB document against $url"

timeout 180 python3 - "$port" "$CONNS" "$PIPELINE" "$HOLD" "$server_pid" "$rss_before" "$BOUND_MIB" <<'PY'
import asyncio, socket, sys, time

port, conns, pipeline, hold, pid, rss_before, bound = map(int, sys.argv[1:])

def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

def stuck_reader():
    s = socket.socket()
    # A tiny receive window: the server's answer piles up on its side, not ours.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: drill\r\n\r\n" * pipeline)
    return s

async def normal(latencies, stop):
    while not stop.is_set():
        started = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            writer.write(b"GET /api/v1/courses?limit=5 HTTP/1.1\r\nHost: drill\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            latencies.append((answer[:12].decode(errors="replace"), time.monotonic() - started))
        except (OSError, asyncio.TimeoutError) as e:
            latencies.append((type(e).__name__, time.monotonic() - started))
        await asyncio.sleep(1)

async def main():
    latencies, stop = [], asyncio.Event()
    prober = asyncio.create_task(normal(latencies, stop))
    socks, peak, refused = [], rss_before, 0
    for i in range(conns):
        try:
            socks.append(stuck_reader())
        except OSError:
            refused += 1
        if i % 50 == 49:
            peak = max(peak, rss_kib())
            await asyncio.sleep(0.01)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        peak = max(peak, rss_kib())
        await asyncio.sleep(0.2)
    for s in socks:
        s.close()
    await asyncio.sleep(2)
    after = rss_kib()
    stop.set()
    await prober
    q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")
    lat = sorted(t for _, t in latencies)
    bad = [s for s, _ in latencies if not s.startswith("HTTP/1.1 200")]
    grew = (peak - rss_before) / 1024
    print(f"slow-reader: {len(socks)} stuck readers ({refused} refused), {pipeline} requests each")
    print(f"slow-reader: server RSS {rss_before/1024:.0f} MiB before, {peak/1024:.0f} MiB at most while stuck "
          f"(+{grew:.0f} MiB, {grew*1024/max(1,len(socks)):.0f} KiB per reader), {after/1024:.0f} MiB after they left")
    print(f"slow-reader: normal request during the attack: {len(lat)} sent, p50 {q(lat, .5)*1000:.0f} ms, "
          f"max {q(lat, 1)*1000:.0f} ms, not 200: {len(bad)}")
    failed = []
    if grew > bound:
        failed.append(f"RSS grew by {grew:.0f} MiB (bound {bound} MiB)")
    if bad or not lat:
        failed.append(f"normal requests failed: {bad}")
    elif lat[-1] > 2.0:
        failed.append(f"a normal request took {lat[-1]*1000:.0f} ms during the attack")
    if failed:
        print("slow-reader: FAILED: " + "; ".join(failed), file=sys.stderr)
        sys.exit(1)

asyncio.run(main())
PY
kill -0 "$server_pid" || die "the server died"
say "OK"
