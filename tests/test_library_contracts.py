"""The library internals our patches rely on, held to what the patches assume.

Each patch of a third-party library's internals (docs/internals.md, "Patched internals") depends on
a surface the library does not promise to keep: a private attribute, a method's parameters, a
module attribute looked up at call time. These tests check that surface directly, so an upgrade
that changes it fails here, naming the patch to revisit, instead of the patch silently stopping
to apply (or breaking a worker at its first request).
"""

from __future__ import annotations

import inspect
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker
from prometheus_client import CollectorRegistry, multiprocess, values
from prometheus_client.mmap_dict import MmapedDict
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from api.observability.metrics_dir import MULTIPROC_ENV, archive_dead_worker
from api.server.http_errors import ErrorWriter, PathKeepingRequest
from api.server.master import ServerLogger, gunicorn_options
from api.server.one_write import OneWriteResponse, _Gathered
from api.server.worker import RegistryWorker

# gunicorn's own Response, whatever api.server.one_write.install() did to the module in this process.
GUNICORN_RESPONSE = OneWriteResponse.__bases__[0]
ROOT = Path(__file__).resolve().parents[1]


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# (owner, attribute, the parameters the patch calls it with or overrides it with, the patch)
METRICS_ARCHIVE = "api/observability/metrics_dir.py archive_dead_worker"
SURFACES = [
    (util, "write_error", parameters(ErrorWriter.__call__)[1:], "api/server/http_errors.py ErrorWriter"),
    (
        util,
        "write_nonblock",
        ["sock", "data", "chunked"],
        "api/server/http_errors.py ErrorWriter uses it",
    ),
    *[
        (
            PathKeepingRequest.__bases__[0],
            name,
            parameters(getattr(PathKeepingRequest, name)),
            "api/server/http_errors.py PathKeepingRequest overrides it",
        )
        for name in ("parse", "read_into")
    ],
    (GUNICORN_RESPONSE, "write", parameters(OneWriteResponse.write), "api/server/one_write.py overrides it"),
    (GUNICORN_RESPONSE, "send_headers", ["self"], "api/server/one_write.py calls it into a _Gathered socket"),
    *[
        (
            GeventWorker,
            name,
            parameters(getattr(RegistryWorker, name)),
            "api/server/worker.py RegistryWorker overrides it",
        )
        for name in ("init_process", "handle", "handle_request", "handle_error")
    ],
    (
        GeventWorker,
        "handle_exit",
        ["self", "sig", "frame"],
        "api/server/worker.py installs it",
    ),
    (Logger, "access", parameters(ServerLogger.access), "api/server/master.py ServerLogger overrides it"),
    (
        MmapedDict,
        "read_all_values_from_file",
        ["filename"],
        METRICS_ARCHIVE,
    ),
    (MmapedDict, "read_value", ["self", "key"], METRICS_ARCHIVE),
    (
        MmapedDict,
        "write_value",
        ["self", "key", "value", "timestamp"],
        METRICS_ARCHIVE,
    ),
    (MmapedDict, "close", ["self"], METRICS_ARCHIVE),
    (multiprocess, "mark_process_dead", ["pid", "path"], METRICS_ARCHIVE),
    (
        values,
        "get_value_class",
        [],
        "api/observability/metrics_dir.py enable_multiprocess",
    ),
    (RandomForestClassifier, "_validate_X_predict", ["self", "X"], "registry/inference.py forest_proba"),
    (
        DecisionTreeClassifier,
        "predict_proba",
        ["self", "X", "check_input"],
        "registry/inference.py forest_proba",
    ),
]


@pytest.mark.parametrize(
    ("owner", "name", "expected", "patch"),
    SURFACES,
    ids=[f"{getattr(owner, '__name__', owner)}.{name}" for owner, name, _, _ in SURFACES],
)
def test_the_patched_surface_has_the_parameters_the_patch_assumes(
    owner: Any, name: str, expected: list[str], patch: str
) -> None:
    found = getattr(owner, name, None)
    assert found is not None, f"{owner.__name__}.{name} is gone: revisit {patch}"
    assert parameters(found) == expected, (
        f"{owner.__name__}.{name} now takes {parameters(found)}, not {expected}: revisit {patch}"
    )


def gunicorn_response(method: str, sock: Any) -> Any:
    """gunicorn's own Response for a ``method`` request, built as its worker builds one."""
    cfg = Config()
    request = next(iter(RequestParser(cfg, [f"{method} /x HTTP/1.1\r\nHost: a\r\n\r\n".encode()], None)))
    response, _ = wsgi.create(request, sock, ("127.0.0.1", 1), ("127.0.0.1", 8000), cfg, GUNICORN_RESPONSE)
    return response


@pytest.mark.parametrize(
    ("method", "status", "omits_body"),
    [("GET", "200 OK", False), ("HEAD", "200 OK", True), ("GET", "204 No Content", True)],
)
def test_gunicorn_responses_keep_the_state_one_write_reads(
    method: str, status: str, omits_body: bool
) -> None:
    revisit = "revisit OneWriteResponse._is_whole_body in api/server/one_write.py"
    sock = _Gathered()
    response = gunicorn_response(method, sock)
    fresh = {name: getattr(response, name, "missing") for name in ("headers_sent", "chunked", "sent", "sock")}
    assert fresh == {"headers_sent": False, "chunked": False, "sent": 0, "sock": sock}, revisit
    assert hasattr(response.cfg, "is_ssl") and not response.cfg.is_ssl, revisit
    response.start_response(status, [] if omits_body else [("Content-Length", "5")])
    # Read with a default of True: were it renamed, every answer would silently take gunicorn's path.
    assert getattr(response, "_omits_body", "missing") is omits_body, (
        f"gunicorn's Response no longer says whether a {method} {status} omits its body in "
        f"_omits_body: {revisit}"
    )
    assert response.response_length == (None if omits_body else 5), revisit


def test_gunicorn_writes_the_headers_with_one_sendall_of_its_socket() -> None:
    """OneWriteResponse swaps the socket for a _Gathered one while send_headers runs."""
    sock = _Gathered()
    response = gunicorn_response("GET", sock)
    response.start_response("200 OK", [("Content-Length", "5")])
    response.send_headers()
    assert response.headers_sent
    assert sock.data.startswith(b"HTTP/1.1 200 OK\r\n") and sock.data.endswith(
        b"Content-Length: 5\r\n\r\n"
    ), (
        "gunicorn's send_headers no longer writes the whole head through sock.sendall: revisit "
        f"OneWriteResponse.write in api/server/one_write.py (gathered {sock.data!r})"
    )


def test_gunicorn_would_build_access_log_fields_that_server_logger_skips() -> None:
    """ServerLogger pays off only while gunicorn's access() does work under our options and its
    workers call it on every request."""
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1", 8000, 1, 30).items():
        cfg.set(key, value)
    assert cfg.logger_class is ServerLogger, (
        "gunicorn ignores logger_class: revisit api/server/master.py ServerLogger"
    )
    theirs = Logger.__new__(Logger)  # without setup(), which would configure this process's logging
    theirs.cfg = cfg
    assert theirs.access_log_enabled, (
        "gunicorn's access log no longer builds its fields under our options: ServerLogger may go"
    )
    assert "self.log.access(resp, req, environ, request_time)" in inspect.getsource(
        AsyncWorker.handle_request
    ), (
        "gunicorn's async worker no longer calls log.access per request: revisit "
        "api/server/master.py ServerLogger"
    )


def run_python(code: str, env: dict[str, str | None], *args: str) -> str:
    """What ``code`` prints, run with ``args`` by a fresh interpreter with our tree importable and
    ``env`` in its environment (a None value: the variable unset)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    env = {name: value for name, value in env.items() if value is not None}
    command = [sys.executable, "-c", code, *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


SWITCH_AFTER_IMPORT = """
import os
from api.observability.metrics import instruments
from api.observability.metrics_dir import enable_multiprocess
path = enable_multiprocess()
instruments().reloads.labels("ok").inc()
print(os.getpid(), *sorted(os.listdir(path)))
"""


def test_multiprocess_mode_switched_on_after_import_writes_this_process_files(tmp_path: Path) -> None:
    """enable_multiprocess sets prometheus_client.values.ValueClass, which each metric reads when made."""
    pid, *files = run_python(SWITCH_AFTER_IMPORT, {"TMPDIR": str(tmp_path), MULTIPROC_ENV: None}).split()
    assert f"counter_{pid}.db" in files, (
        f"a counter made after enable_multiprocess wrote no file (found {files}): prometheus_client no "
        "longer reads values.ValueClass when a metric is made; revisit "
        "api/observability/metrics_dir.py enable_multiprocess"
    )


COUNT_THREE = """
import os
from prometheus_client import Counter
Counter("jobs", "Jobs done").inc(3)
print(os.getpid())
"""


def test_a_dead_workers_counts_folded_into_the_archive_are_summed_by_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """archive_dead_worker writes MmapedDict files named ``counter_archive.db``, which the collector
    must read as counters."""
    pids = [run_python(COUNT_THREE, {MULTIPROC_ENV: str(tmp_path)}) for _ in range(2)]
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    for pid in pids:
        archive_dead_worker(int(pid))
    assert sorted(os.listdir(tmp_path)) == ["counter_archive.db"]
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(tmp_path))
    assert registry.get_sample_value("jobs_total") == 6.0, (
        "the archive of two dead workers' counts does not read back as their sum: revisit "
        "api/observability/metrics_dir.py archive_dead_worker "
        "(prometheus_client.mmap_dict or the file names changed)"
    )


MMAPPED_BYTES = """
import ctypes, sys
from api.server.allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks "
                "uordblks fordblks keepcost".split()]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
if sys.argv[1:] == ["keep"]:
    assert keep_freed_memory()
before = mallinfo2().hblkhd
block = bytearray(1 << 20)
print(mallinfo2().hblkhd - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's thresholds are glibc's")
def test_malloc_keeps_a_megabyte_block_on_its_heap_once_told() -> None:
    """api/server/allocator.py raises glibc's mmap threshold: a 1 MiB block then comes from the heap (kept
    for reuse when freed) instead of fresh mmap pages."""
    mapped = {how: int(run_python(MMAPPED_BYTES, {}, how)) for how in ("default", "keep")}
    assert mapped["default"] >= 1 << 20, f"the probe no longer sees glibc mmap a 1 MiB block: {mapped}"
    assert mapped["keep"] == 0, (
        f"keep_freed_memory no longer keeps 1 MiB blocks on the heap ({mapped}): "
        "revisit api/server/allocator.py"
    )
