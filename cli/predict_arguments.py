"""The ``predict`` subcommand's arguments, kept apart so that ``serve`` and ``check`` never import
pandas' readers, pyarrow or tqdm."""

from __future__ import annotations

import argparse

from batch import STDIO

DEFAULT_CHUNK_ROWS = 10_000


def add_predict_parser(commands: argparse._SubParsersAction, config_help: str) -> None:
    """Add ``predict NAME[/VERSION] INPUT [--output OUT] [--errors ERRFILE] [--chunk-rows N]``."""
    cmd = commands.add_parser(
        "predict",
        help="score a CSV, Parquet or JSON Lines file; exit 1 if any row failed validation",
        description="Score a file with no server, through the same validation as the API. Rows that "
        "fail are left out of OUT and written to ERRFILE as 'Row N: message', N counting data rows "
        "from 0 (a CSV header line does not count), as the API's row indices do. Input columns that "
        "are not features (an id, say) are kept in OUT and not validated. Exit status 0: every row "
        "scored; 1: some rows failed validation; 2: usage or config error, an input that cannot be read, "
        "or an OUT or ERRFILE that is INPUT or each other (nothing is written then).",
    )
    cmd.add_argument("target", metavar="NAME[/VERSION]", help="model, optionally /version or /alias")
    cmd.add_argument("input", metavar="INPUT", help=".csv, .parquet or .jsonl file; '-' is CSV on stdin")
    cmd.add_argument(
        "--output", "-o", default=STDIO, metavar="OUT", help="same formats (default: CSV on stdout)"
    )
    cmd.add_argument(
        "--errors",
        metavar="ERRFILE",
        help="where failed rows are listed (default: stderr; '-' is stdout, with an OUT file only)",
    )
    cmd.add_argument("--config", help=config_help)
    cmd.add_argument(
        "--chunk-rows",
        type=_positive,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"rows read, scored and written at a time (default: {DEFAULT_CHUNK_ROWS:,})",
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
