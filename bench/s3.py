"""A real S3 API on 127.0.0.1: moto's standalone server (``moto[server]``, a dev dependency) on a free
port, started and stopped by PID. The tests' store server and the cold-start measurement's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MOTO = Path(sys.executable).parent / "moto_server"
ACCESS_KEY = "AKIAMODELREGISTRYTEST"
SECRET_KEY = "never-in-any-output-3f9a7c1e5b"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Server:
    """moto's server: its port, process and log."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Our environment with the credentials and this endpoint (for servers and adds we start)."""
        return {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def start(self) -> None:
        """Start it (again: an empty store) and wait until it accepts connections."""
        with self.log.open("ab") as log:
            command = [str(MOTO), "-H", "127.0.0.1", "-p", str(self.port)]
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not _accepts(self.port):
            assert self.process.poll() is None, f"moto exited: {self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "moto did not start within 30 s"
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop it by PID (its objects are gone with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
