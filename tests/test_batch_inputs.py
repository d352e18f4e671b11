"""model-registry predict reads cells as the JSON the API would receive, and an input it cannot use
(corrupt, truncated, not UTF-8, not JSON objects, empty, a folder) gets one line and exit 2."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from flask.testing import FlaskClient

from cli.main import main
from tests.live import COMMAND
from tests.test_batch_predict import (
    api_predictions,
    assert_matches_api,
    flowers_rows,
    read_output,
    write_input,
)

FLOWER_ROW = '"sepal_width": 3.0, "petal_length": 1.5, "petal_width": 0.2'
ACCEPTED = ["5", "5.0", "5e0", "0.5E1", "50e-1", "-0", "5.10"]
# Python's float() or pandas' parser reads every one of these as a number; JSON reads none.
REFUSED = ["1_0", " 5", "5 ", "+5", "0x10", "١", "٥", "nan", "NaN", "inf", "infinity", "-Infinity"]
REFUSED += ["05", "5.", ".5", "1e400", "5,0", "five", "True"]


def predict_file(config: Path, name: str, source: Path, out: Path, errors: Path) -> int:
    return main(
        ["predict", name, str(source), "-o", str(out), "--errors", str(errors), "--config", str(config)]
    )


def post_raw(client: FlaskClient, body: str) -> Any:
    return client.post("/models/flowers/1/predict", data=body, content_type="application/json")


def test_csv_cells_are_numbers_exactly_when_the_api_reads_them_as_json_numbers(
    tiny_store: Path, client: FlaskClient, tmp_path: Path
) -> None:
    cells = ACCEPTED + REFUSED
    lines = ["sepal_length,sepal_width,petal_length,petal_width"]
    lines += [f'"{cell}",3.0,1.5,0.2' for cell in cells]
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, errors = tmp_path / "out.csv", tmp_path / "errors.txt"
    assert predict_file(tiny_store, "flowers", source, out, errors) == 1
    expected = []
    for row, cell in enumerate(cells):
        as_number = post_raw(client, f'{{"sepal_length": {cell}, {FLOWER_ROW}}}')
        if cell in ACCEPTED:
            assert as_number.status_code == 200, cell
            continue
        if cell.strip() == cell:  # JSON allows blanks around a number, never inside the number itself
            assert as_number.status_code == 400 and "not valid JSON" in as_number.get_json()["message"], cell
        as_text = post_raw(client, orjson.dumps({"sepal_length": cell, **orjson.loads(f"{{{FLOWER_ROW}}}")}))
        assert as_text.status_code == 400, cell
        expected.append(f"Row {row}: {as_text.get_json()['message']}")
    assert errors.read_text(encoding="utf-8").splitlines() == expected
    scored = read_output(out)
    sent = pd.DataFrame(
        {
            "sepal_length": [float(c) for c in ACCEPTED],
            "sepal_width": 3.0,
            "petal_length": 1.5,
            "petal_width": 0.2,
        }
    )
    assert_matches_api(scored, api_predictions(tiny_store, "flowers", "1", sent))


@pytest.mark.parametrize(("cell", "accepted"), [("40", True), ("4e1", True), ("4_0", False), ("+40", False)])
def test_an_integer_cell_follows_the_same_rule(
    tiny_store: Path, client: FlaskClient, tmp_path: Path, cell: str, accepted: bool
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"color,size,material\nred,{cell},leather\n", encoding="utf-8")
    out, errors = tmp_path / "out.csv", tmp_path / "errors.txt"
    assert predict_file(tiny_store, "shoes", source, out, errors) == (0 if accepted else 1)
    if accepted:
        assert read_output(out)["size"].tolist() == [40]
        return
    answer = client.post(
        "/models/shoes/1/predict", json={"color": "red", "size": cell, "material": "leather"}
    )
    assert errors.read_text().splitlines() == [f"Row 0: {answer.get_json()['message']}"]


def test_parquet_is_typed_text_in_a_number_column_stays_text(
    tiny_store: Path, client: FlaskClient, tmp_path: Path
) -> None:
    frame = flowers_rows(3).astype({"sepal_length": str})
    frame.loc[1, "sepal_length"] = "1_0"
    source = write_input(frame, tmp_path / "in.parquet")
    out, errors = tmp_path / "out.csv", tmp_path / "errors.txt"
    assert predict_file(tiny_store, "flowers", source, out, errors) == 1
    expected = []
    for row, values in enumerate(frame.to_dict("records")):
        answer = client.post("/models/flowers/1/predict", json=values)
        expected.append(f"Row {row}: {answer.get_json()['message']}")
    assert "'1_0' is not a number." in expected[1]
    assert errors.read_text().splitlines() == expected


def test_json_lines_are_read_by_the_api_parser(tiny_store: Path, client: FlaskClient, tmp_path: Path) -> None:
    rows = [
        f'{{"sepal_length": 5.1, {FLOWER_ROW}}}',
        "",  # a blank line is no row
        f'{{"sepal_length": "1_0", {FLOWER_ROW}}}',
        f'{{"id": 7, "sepal_length": 1e0, {FLOWER_ROW}}}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(rows) + "\n")
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.txt"
    assert predict_file(tiny_store, "flowers", source, out, errors) == 1
    answer = post_raw(client, rows[2])
    assert errors.read_text().splitlines() == [f"Row 1: {answer.get_json()['message']}"]
    scored = read_output(out)
    assert scored["sepal_length"].tolist() == [5.1, 1.0]
    assert scored["id"].isna().tolist() == [True, False]


def parquet_cut(folder: Path) -> Path:
    whole = write_input(flowers_rows(50), folder / "whole.parquet").read_bytes()
    (folder / "in.parquet").write_bytes(whole[: len(whole) // 2])
    return folder / "in.parquet"


def parquet_scribbled(folder: Path) -> Path:
    whole = bytearray(write_input(flowers_rows(50), folder / "whole.parquet").read_bytes())
    whole[8:200] = b"\xff" * 192  # the column chunks, between the magic bytes and the footer
    (folder / "in.parquet").write_bytes(bytes(whole))
    return folder / "in.parquet"


def written(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name

    return make


def folder_named(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).mkdir()
        return folder / name

    return make


HEADER = b"sepal_length,sepal_width,petal_length,petal_width\n"
ROW = b'{"sepal_length": 5.1, "sepal_width": 3.0, "petal_length": 1.5, "petal_width": 0.2}\n'
UNUSABLE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "parquet cut short": (parquet_cut, "Parquet magic bytes not found"),
    "parquet scribbled over": (parquet_scribbled, "in.parquet: "),
    "not parquet at all": (written("in.parquet", HEADER + b"5,3,1,0\n"), "in.parquet: "),
    "csv cut inside a quote": (written("in.csv", HEADER + b'5.1,3,1,"0.'), "EOF inside string"),
    "csv not utf-8": (written("in.csv", HEADER + "5,3,1,0\ncaf\xe9,3,1,0\n".encode("latin-1")), "not UTF-8"),
    "jsonl cut short": (written("in.jsonl", ROW + ROW[:30]), "line 2 is not valid JSON"),
    "jsonl with an array": (written("in.jsonl", ROW + b"[5.1, 3.0, 1.5, 0.2]\n"), "line 2 is an array"),
    "jsonl with null": (written("in.jsonl", b"null\n" + ROW), "line 1 is null"),
    "jsonl with NaN": (written("in.jsonl", ROW.replace(b"5.1", b"NaN")), "line 1 is not valid JSON"),
    "jsonl not utf-8": (written("in.jsonl", ROW.replace(b"5.1", b'"caf\xe9"')), "line 1 is not valid JSON"),
    "jsonl of blank lines": (written("in.jsonl", b"\n \n"), "blank lines only"),
    "empty csv": (written("in.csv", b""), "the file is empty"),
    "empty jsonl": (written("in.jsonl", b""), "the file is empty"),
    "empty parquet": (written("in.parquet", b""), "the file is empty"),
    "a folder": (folder_named("in.csv"), "it is a folder"),
    "nothing there": (lambda folder: folder / "in.csv", "there is no such file"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_an_unusable_input_gets_one_line_and_exit_2(
    tiny_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    make, problem = UNUSABLE[case]
    source = make(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["predict", "flowers", str(source), "-o", str(out), "--config", str(tiny_store)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"model-registry predict: cannot read {source}: ")
    assert captured.err.count("\n") == 1 and problem in captured.err
    assert not out.exists() and captured.out == ""


def test_a_corrupt_parquet_file_prints_no_traceback(tiny_store: Path, tmp_path: Path) -> None:
    source = parquet_cut(tmp_path)
    command = [str(COMMAND), "predict", "flowers", str(source), "--config", str(tiny_store)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith(f"model-registry predict: cannot read {source}: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_column_of_mixed_types_is_refused_for_csv_output(tiny_store: Path, tmp_path: Path) -> None:
    rows = [{"id": 1, **orjson.loads(ROW)}, {"id": "a", **orjson.loads(ROW)}]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    out = tmp_path / "out.csv"
    assert main(["predict", "flowers", str(source), "-o", str(out), "--config", str(tiny_store)]) == 2
    assert not out.exists()
    assert (
        main(
            [
                "predict",
                "flowers",
                str(source),
                "-o",
                str(tmp_path / "out.jsonl"),
                "--config",
                str(tiny_store),
            ]
        )
        == 0
    )
