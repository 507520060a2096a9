"""The result of an exercise's self-check: each case ✔ or ✘ with a hint, or "not done yet"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

NOT_DONE = "sin hacer todavía"


@dataclass
class SelfCheck:
    """What a self-check found.

    Attributes:
        exercise: The exercise's name (Spanish, as the notebook titles it).
        items: ``(case, ok, hint)``: what was checked, whether it held, what to look at when not.
        done: False while the answer is still the empty stub (nothing was judged).
        todo: What to do first when the answer is not done.
        note: A line under the verdict (e.g. that the cases were the visible practice ones).
    """

    exercise: str
    items: list[tuple[str, bool, str]] = field(default_factory=list)
    done: bool = True
    todo: str = ""
    note: str = ""

    def add(self, case: str, ok: bool, hint: str = "") -> bool:
        self.items.append((case, bool(ok), hint))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return self.done and bool(self.items) and all(ok for _, ok, _ in self.items)

    @property
    def failed(self) -> list[str]:
        return [case for case, ok, _ in self.items if not ok]

    def lines(self) -> list[str]:
        if not self.done:
            return [f"… {self.exercise}: {NOT_DONE}. {self.todo}".rstrip()]
        out = [f"{'✔' if ok else '✘'} {case}" + ("" if ok or not hint else f": {hint}") for case, ok, hint in self.items]
        out.append(f"{'✔' if self.passed else '✘'} {self.exercise}: {'correcto' if self.passed else 'revisa las líneas con ✘'}")
        if self.note:
            out.append(f"  {self.note}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)


def run_learner_code(check: SelfCheck, case: str, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """Call the learner's function; an exception is that case's ✘ with its one line, never a crash."""
    try:
        return True, fn(*args)
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        check.add(case, False, f"tu código lanzó {type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}")
        return False, None
