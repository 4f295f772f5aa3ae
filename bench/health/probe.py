"""Times N GET /livez (each on a new connection) against 127.0.0.1:PORT.

Prints: n=N median_ms=… p99_ms=… max_ms=… failed=F
"""
import http.client
import statistics
import sys
import time

port, count = int(sys.argv[1]), int(sys.argv[2])
samples, failed = [], 0
for _ in range(count):
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/livez")
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            failed += 1
            continue
    except OSError:
        failed += 1
        continue
    samples.append((time.perf_counter() - start) * 1000)
samples.sort()
p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] if samples else float("nan")
print(f"n={len(samples)} median_ms={statistics.median(samples):.3f} p99_ms={p99:.3f} "
      f"max_ms={samples[-1]:.3f} failed={failed}")
