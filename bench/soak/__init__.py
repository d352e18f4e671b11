"""make soak: good and bad requests against --workers 2, with a reload midway (``python -m bench.soak``)."""
