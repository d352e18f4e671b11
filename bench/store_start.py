"""Start-up time of the example store served from S3 (a local moto server): ``serve --config
s3://...`` with an empty artifact cache (every artifact downloaded and verified) and with a warm
one (none fetched), beside the same store on local disk. Time is from spawning the server to the
first 200 on /health/ready.

    python -m bench.store_start [--reps 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import s3fs

from bench.harness import free_port, serve_command, start_server, stop_server
from bench.s3 import S3Server

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"
BUCKET_PREFIX = "example/registry"


def upload_example(env: dict[str, str]) -> str:
    """Copy config.yaml and model_store/ to the S3 server; returns the config's URL."""
    fs = s3fs.S3FileSystem(
        key=env["AWS_ACCESS_KEY_ID"],
        secret=env["AWS_SECRET_ACCESS_KEY"],
        endpoint_url=env["AWS_ENDPOINT_URL"],
        skip_instance_cache=True,
    )
    fs.mkdir(BUCKET_PREFIX.split("/")[0])
    fs.put_file(str(CONFIG), f"{BUCKET_PREFIX}/config.yaml")
    for path in sorted((ROOT / "model_store").rglob("*.joblib")):
        fs.put_file(str(path), f"{BUCKET_PREFIX}/{path.relative_to(ROOT)}")
    return f"s3://{BUCKET_PREFIX}/config.yaml"


def time_start(config: str, work: Path, env: dict[str, str], args: list[str], name: str) -> float:
    """Seconds from spawn to ready for one server, stopped right after."""
    port = free_port()
    server = start_server(name, serve_command(config, port, 2, args), port, work / f"{name}.log", 2, env=env)  # type: ignore[arg-type]
    stop_server(server)
    fetches = [
        line for line in server.log.read_text().splitlines() if "registry.artifact_cache: fetched" in line
    ]
    fetching = sum(float(line.rsplit(" in ", 1)[1].split()[0]) for line in fetches)
    print(f"{name}: ready in {server.startup_s:.2f} s, {len(fetches)} artifacts fetched in {fetching:.2f} s")
    return server.startup_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3)
    reps = parser.parse_args().reps
    with tempfile.TemporaryDirectory(prefix="store-start-") as folder:
        work = Path(folder)
        s3 = S3Server(free_port(), work / "moto.log")
        s3.start()
        try:
            env = s3.env()
            url = upload_example(env)
            times: dict[str, list[float]] = {"local disk": [], "S3, empty cache": [], "S3, warm cache": []}
            for rep in range(reps):
                cache = work / f"cache{rep}"
                times["local disk"].append(time_start(str(CONFIG), work, env, [], f"local{rep}"))
                cached = ["--cache-dir", str(cache)]
                times["S3, empty cache"].append(time_start(url, work, env, cached, f"cold{rep}"))
                times["S3, warm cache"].append(time_start(url, work, env, cached, f"warm{rep}"))
                shutil.rmtree(cache)
        finally:
            s3.stop()
    for name, values in times.items():
        print(
            f"{name:16} median {statistics.median(values):.2f} s  ({', '.join(f'{v:.2f}' for v in values)})"
        )


if __name__ == "__main__":
    main()
