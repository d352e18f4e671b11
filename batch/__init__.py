"""Batch scoring of CSV, Parquet and JSON Lines files, on the API's predict chain.

Beside ``api``: may import ``registry``, ``schemas`` and ``spec``; never ``api`` or ``cli``. The
``predict`` command that drives it lives in cli.predict.
"""

STDIO = "-"  # a path that means stdin (input) or stdout (output)
