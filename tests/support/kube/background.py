"""A polling loop in a thread: the shape of the cluster stand-ins (provisioner, ingress).

Each stand-in does what its real counterpart does through the API server, one pass at a
time; a failing pass is recorded in ``errors`` (shown in a failing test's report) and the
loop goes on, as a controller's work queue retries.
"""

from __future__ import annotations

import threading
from types import TracebackType


class PollingLoop:
    """Calls ``sync_once()`` every ``interval`` seconds in a daemon thread until stopped."""

    name = "stand-in"
    interval = 0.3

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.notes: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sync_once(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def __enter__(self) -> PollingLoop:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def note(self, text: str) -> None:
        self.notes.append(text)

    def logs(self, lines: int = 30) -> str:
        parts = [f"{self.name} error: {e}" for e in self.errors[-lines:]]
        parts += [f"{self.name}: {n}" for n in self.notes[-lines:]]
        return "\n".join(parts)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except Exception as error:  # keep going; the test report shows it
                message = f"{type(error).__name__}: {error}"
                if message not in self.errors[-5:]:
                    self.errors.append(message)
            self._stop.wait(self.interval)
