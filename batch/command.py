"""``model-registry predict NAME[/VERSION] INPUT``: score a file with no server.

Exit status: 0 when every row was scored, 1 when any row failed validation (those rows are left
out of the output and listed in the errors file), 2 for a usage or config error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import IO

import pandas as pd
from tqdm import tqdm

from batch.formats import READ_ERRORS, STDIO, BatchUsageError, count_rows, format_of, open_writer, read_chunks
from batch.scoring import ChunkScorer
from registry.loader import load_registry
from registry.registry import ModelVersion
from spec.config import default_config_path, read_config
from spec.errors import PredictionError, RegistryError

EXIT_ROWS_FAILED = 1
EXIT_USAGE = 2


def predict_command(args: argparse.Namespace) -> int:
    """Run ``predict`` for parsed arguments; returns the exit status."""
    try:
        format_of(args.input), format_of(args.output)
        version, depth = _resolve(args)
        return score_file(version, depth, args.input, args.output, args.errors, args.chunk_rows)
    except (BatchUsageError, RegistryError) as exc:
        message = exc.message if isinstance(exc, RegistryError) else str(exc)
        print(f"model-registry predict: {message}", file=sys.stderr)
        return EXIT_USAGE


def score_file(
    version: ModelVersion, max_depth: int, source: str, target: str, errors_path: str | None, chunk_rows: int
) -> int:
    """Score ``source`` into ``target`` chunk by chunk; 1 if any row failed validation, else 0."""
    scorer = ChunkScorer(version, max_depth, from_text=format_of(source) == "csv")
    chunks = _readable(read_chunks(source, chunk_rows, scorer.text_columns), source)
    errors = sys.stderr if errors_path is None else open(errors_path, "w", encoding="utf-8")
    progress = tqdm(
        total=count_rows(source),
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    )
    writer, first_row, failed = None, 0, 0
    try:
        for chunk in chunks:
            if writer is None:
                scorer.check_columns(chunk.columns)
                writer = open_writer(target)
            scored = scorer.score(chunk, first_row)
            writer.write(scored.frame)
            _report(scored.errors, errors, progress)
            first_row += len(chunk)
            failed += len(scored.errors)
            progress.update(len(chunk))
    except PredictionError as exc:
        raise BatchUsageError(f"the model failed on the chunk from row {first_row}: {exc.message}") from exc
    finally:
        progress.close()
        if writer is not None:
            writer.close()
        if errors is not sys.stderr:
            errors.close()
    return EXIT_ROWS_FAILED if failed else 0


def _resolve(args: argparse.Namespace) -> tuple[ModelVersion, int]:
    """The available version that ``NAME[/VERSION]`` names, and the config's JSON depth limit."""
    name, _, version = args.target.partition("/")
    config = read_config(default_config_path(args.config))
    registry = load_registry(config)
    return registry.resolve_available(name, version or None), config.server.max_json_depth


def _readable(chunks: Iterator[pd.DataFrame], source: str) -> Iterator[pd.DataFrame]:
    """The chunks, with a failure to read turned into a one-line usage error."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except READ_ERRORS as exc:
            name = "stdin" if source == STDIO else source
            raise BatchUsageError(f"cannot read {name}: {exc}") from exc
        yield chunk


def _report(errors: list[tuple[int, str]], stream: IO[str], progress: tqdm) -> None:
    """One ``Row N: message`` line per failed row, the API's message on one line."""
    if not errors:
        return
    text = "".join(f"Row {row}: {' '.join(message.splitlines())}\n" for row, message in errors)
    with progress.external_write_mode(file=stream):
        stream.write(text)
