"""What every layer protocol shares: calls that change something apart from those that only read.

Each layer package names what a notebook may call on it in a :class:`typing.Protocol`
(``dataops.kafka.protocol.Kafka``, …). A method that changes something (creates, deletes,
pauses, injects a fault, replays…) is marked with :func:`action`, and its name starts with one
of the :data:`ACTION_VERBS`; a read-only method's name starts with none of them. So a reader
tells the two apart by the name alone, and ``tests/unit/test_layer_protocols.py`` keeps it so.

Example::

    class Connect(Protocol):
        def status(self, name: str) -> dict[str, Any]: ...   # reads
        @action
        def pause(self, name: str) -> None: ...              # changes
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Final, TypeVar

__all__ = ["ACTION_ATTR", "ACTION_VERBS", "action", "is_action", "is_action_name", "members"]

F = TypeVar("F", bound=Callable[..., object])

#: The first word of every changing call (and of no read-only one).
ACTION_VERBS: Final[frozenset[str]] = frozenset({
    "cancel", "clear", "create", "delete", "drop", "ensure", "export", "inject", "pause", "put",
    "register", "replay", "restart", "resume", "submit",
})  # fmt: skip
#: The attribute :func:`action` sets on a method.
ACTION_ATTR: Final = "__dataops_action__"


def action(fn: F) -> F:
    """Mark a protocol method as one that changes something (its name starts with an action verb)."""
    setattr(fn, ACTION_ATTR, True)
    return fn


def is_action(member: object) -> bool:
    """True for a method marked with :func:`action` (a property never is)."""
    return getattr(member, ACTION_ATTR, False) is True


def is_action_name(name: str) -> bool:
    """True when ``name``'s first word (up to the first ``_``) is one of :data:`ACTION_VERBS`."""
    return name.split("_", 1)[0] in ACTION_VERBS


def members(protocol: type) -> dict[str, object]:
    """The public methods and properties a protocol declares, by name (its own and its bases')."""
    found: dict[str, object] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or klass.__module__ == "typing":
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property)):
                found[name] = value
    return found
