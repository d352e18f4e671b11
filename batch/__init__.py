"""Batch scoring of CSV, Parquet and JSON Lines files: ``model-registry predict``.

Beside ``api`` at the top: may import ``registry``, ``schemas`` and ``spec``; never ``api``.
"""
