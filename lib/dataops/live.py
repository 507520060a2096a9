"""What the library's live widgets share (the instructor's fault panel, the room of a class): a thread
that calls ``refresh()`` every few seconds, ``stop()`` to end it, and showing ``widget`` in a notebook."""

from __future__ import annotations

import threading
from typing import Any


class Refreshing:
    """A widget redrawn by :meth:`refresh` every ``refresh_s`` seconds once :meth:`_start` is called."""

    widget: Any

    def refresh(self) -> None:  # pragma: no cover - each widget draws itself
        raise NotImplementedError

    def _start(self, refresh_s: float, name: str) -> None:
        """Start the refreshes (none when ``refresh_s`` is 0: only by calling :meth:`refresh`)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if refresh_s > 0:
            self._thread = threading.Thread(target=self._run, args=(refresh_s,), name=name, daemon=True)
            self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.refresh()

    def stop(self) -> None:
        """End the refreshes (the widget stays as last drawn)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
