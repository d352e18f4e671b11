"""The benchmark harness: our server against a naive Flask baseline, measured with wrk (make bench)."""
