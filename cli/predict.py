"""``model-registry predict NAME[/VERSION] INPUT``: score a file with no server.

Exit status: 0 when every row was scored, 1 when any row failed validation (those rows are left
out of the output and listed in the errors file), 2 for a usage or config error, an input that
cannot be read or an output or errors path that is the input or each other (batch.paths), 130 when
interrupted (Ctrl-C) and 143 when terminated (SIGTERM), as a shell reports a command killed by
either. The output file, and the errors file, appear only once every row is written
(batch.staging): a run that stops early leaves neither, and leaves earlier ones as they were.
A run that finishes (0 or 1) ends stderr with one summary line (batch.progress).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import IO

import pandas as pd

from batch.formats import READ_ERRORS, STDIO, BatchUsageError, count_rows, format_of, open_writer, read_chunks
from batch.paths import refuse_clashing_paths, refuse_unreadable, refuse_unwritable
from batch.progress import Progress
from batch.scoring import ChunkScorer
from batch.staging import StagedOutput
from batch.stopping import Stopped, StopSignals
from registry.config_source import check_store_reachable, read_config_at
from registry.loader import load_registry
from registry.registry import ModelVersion
from registry.stores import StoreError
from spec.config import config_location
from spec.errors import PredictionError, RegistryError

EXIT_ROWS_FAILED = 1
EXIT_USAGE = 2


def predict_command(args: argparse.Namespace) -> int:
    """Run ``predict`` for parsed arguments; returns the exit status."""
    with StopSignals() as stop:
        try:
            format_of(args.input), format_of(args.output)
            refuse_clashing_paths(args.input, args.output, args.errors)
            for path in (args.output, args.errors):
                refuse_unwritable(path)
            refuse_unreadable(args.input)
            version, depth = _resolve(args)
            return score_file(version, depth, args.input, args.output, args.errors, args.chunk_rows)
        except Stopped:
            pass
        except (BatchUsageError, RegistryError, StoreError) as exc:
            if stop.received is None:
                message = exc.message if isinstance(exc, RegistryError) else str(exc)
                print(f"model-registry predict: {message}", file=sys.stderr)
                return EXIT_USAGE
        except Exception:
            if stop.received is None:
                raise
    # A stop signal: whatever error it surfaced as, report the stop, with a shell's status for it.
    assert stop.received is not None
    stopped = "interrupted" if stop.received == signal.SIGINT else "terminated"
    kept = "" if args.output == STDIO else f"; {args.output} was not written"
    print(f"model-registry predict: {stopped} before the last row{kept}", file=sys.stderr)
    return 128 + stop.received


def score_file(
    version: ModelVersion, max_depth: int, source: str, target: str, errors_path: str | None, chunk_rows: int
) -> int:
    """Score ``source`` into ``target`` chunk by chunk; 1 if any row failed validation, else 0."""
    scorer = ChunkScorer(version, max_depth, from_text=format_of(source) == "csv")
    chunks = _readable(read_chunks(source, chunk_rows, scorer.text_columns), source)
    staged_errors = None if errors_path in (None, STDIO) else StagedOutput.beside(errors_path)
    if staged_errors is not None:
        errors = open(staged_errors.staged, "w", encoding="utf-8")
    else:  # ``--errors -`` is stdout (OUT is then a file: batch.paths), the default stderr
        errors = sys.stdout if errors_path == STDIO else sys.stderr
    progress = Progress(sys.stderr, _counted_rows(source) if sys.stderr.isatty() else None)
    staged = None if target == STDIO else StagedOutput.beside(target)
    writer, first_row, failed, finished, read_all = None, 0, 0, False, False
    try:
        for chunk in chunks:
            if writer is None:
                scorer.check_columns(chunk.columns)
                writer = open_writer(target, None if staged is None else staged.staged)
            scored = scorer.score(chunk, first_row)
            writer.write(scored.frame)
            _report(scored.errors, errors, progress)
            first_row += len(chunk)
            failed += len(scored.errors)
            progress.update(len(scored.frame), len(scored.errors))
        if writer is not None:
            writer.close()
            finished = True
        read_all = True
    except PredictionError as exc:
        raise BatchUsageError(f"the model failed on the chunk from row {first_row}: {exc.message}") from exc
    except OSError as exc:  # a full disk, say: the folders were checked before anything was read
        raise BatchUsageError(f"writing failed from row {first_row}: {exc.strerror or exc}") from exc
    finally:
        if finished:
            progress.finish()
        else:
            progress.close()
        if writer is not None and not finished:
            with contextlib.suppress(Exception):  # what stopped the run is the error to report
                writer.close()
        if staged_errors is not None:
            errors.close()
        # The errors file first: its output, published last, is what marks a run as finished.
        for stage, complete in ((staged_errors, read_all), (staged, finished)):
            if stage is not None and complete:
                stage.publish()
            elif stage is not None:
                stage.discard()
    print(progress.summary(_stream_name(target), _listed(errors_path)), file=sys.stderr)
    return EXIT_ROWS_FAILED if failed else 0


def _resolve(args: argparse.Namespace) -> tuple[ModelVersion, int]:
    """The available version that ``NAME[/VERSION]`` names, and the config's JSON depth limit."""
    name, _, version = args.target.partition("/")
    config = read_config_at(config_location(args.config))  # a local path or a URL, as serve reads
    check_store_reachable(config)
    registry = load_registry(config)
    return registry.resolve_available(name, version or None), config.server.max_json_depth


def _counted_rows(source: str) -> int | None:
    """``count_rows``, with a file it cannot open (a corrupt Parquet file) a one-line usage error."""
    try:
        return count_rows(source)
    except READ_ERRORS as exc:
        raise _unreadable(source, exc) from exc


def _readable(chunks: Iterator[pd.DataFrame], source: str) -> Iterator[pd.DataFrame]:
    """The chunks, with a failure to read turned into a one-line usage error."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except READ_ERRORS as exc:
            raise _unreadable(source, exc) from exc
        yield chunk


def _unreadable(source: str, exc: Exception) -> BatchUsageError:
    """``cannot read FILE: the problem``, on one line whatever the reader's message holds."""
    name = "stdin" if source == STDIO else source
    problem = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):
        problem = f"it is not UTF-8 text ({problem})"
    return BatchUsageError(f"cannot read {name}: {problem}")


def _report(errors: list[tuple[int, str]], stream: IO[str], progress: Progress) -> None:
    """One ``Row N: message`` line per failed row, the API's message on one line."""
    if errors:
        text = "".join(f"Row {row}: {' '.join(message.splitlines())}\n" for row, message in errors)
        progress.write(text, stream)


def _stream_name(path: str) -> str:
    """OUT as the summary names it: ``stdout`` for ``-``."""
    return "stdout" if path == STDIO else path


def _listed(errors_path: str | None) -> str:
    """Where the summary says failed rows are listed: ``above`` (stderr), ``on stdout``, ``in FILE``."""
    if errors_path is None:
        return "above"
    return "on stdout" if errors_path == STDIO else f"in {errors_path}"
