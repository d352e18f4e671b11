"""Batch scoring of CSV, Parquet and JSON Lines files: ``model-registry predict``."""
