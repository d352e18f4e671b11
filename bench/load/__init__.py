"""make bench: our server against a naive Flask baseline, measured with wrk (``python -m bench.load``)."""
