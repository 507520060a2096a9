"""Two `up`s (or applies) at once: the second waits for the first, or says who holds the lock."""

from __future__ import annotations

import os
import threading
import time

import pytest

from dataops.errors import StackError
from dataops.locks import exclusive

pytestmark = pytest.mark.unit


def test_the_second_holder_waits_for_the_first(tmp_path):
    path = tmp_path / "run" / "apply.lock"
    events: list[str] = []

    def first():
        with exclusive(path, "apply"):
            events.append("first in")
            time.sleep(0.8)
            events.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.2)
    with exclusive(path, "apply", wait_s=5):
        events.append("second in")
    thread.join()
    assert events == ["first in", "first out", "second in"]


def test_a_lock_held_too_long_is_one_line_naming_the_holder(tmp_path):
    path = tmp_path / "up.lock"
    release = threading.Event()
    held = threading.Event()

    def holder():
        with exclusive(path, "`dataops up`"):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(StackError, match=rf"otro `dataops up` sigue en marcha \(pid {os.getpid()}\) tras 1 s"):
            with exclusive(path, "`dataops up`", wait_s=1):
                pass
    finally:
        release.set()
        thread.join()
    with exclusive(path, "`dataops up`", wait_s=1):  # released: free again
        pass
