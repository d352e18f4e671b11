"""A TCP proxy on 127.0.0.1 that holds every chunk of an answer for ``delay_s`` before passing it on:
a slow store, in front of the real S3 server. Its threads end with the test process."""

from __future__ import annotations

import socket
import threading
import time

from bench.harness import free_port


class SlowProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream_port``; answers are delayed by ``delay_s`` (settable)."""

    def __init__(self, upstream_port: int, delay_s: float) -> None:
        self.upstream_port, self.delay_s, self.port = upstream_port, delay_s, free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            client, _ = self._listener.accept()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, delay_s: float | None) -> None:
        try:
            while data := source.recv(65536):
                time.sleep(self.delay_s if delay_s is None else delay_s)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
