"""English prose in what a learner reads: the outputs of an executed notebook.

Learners read Spanish; code identifiers stay English. A line of output is English prose when it
holds at least two English function words ("the", "is", "with"…, words Spanish does not have)
and more of them than Spanish ones: a sentence, not a column called ``coin_id`` or a
``SELECT … FROM`` shown as code. What is code is skipped: text inside backticks, quotes,
URLs, paths, ``name=value`` pairs and identifiers (``missing_or_null:usd``, ``p.kafka.latest``); a ``git log`` line (its
commit message is English by the project's rule) is not prose either.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Iterator

# English function words that are not Spanish words (so "no", "a", "me", "son" are not here).
ENGLISH = frozenset(
    "the and is are was were be been being with this that these those from to of for by or on it its you your "
    "an will would can cannot should could must has have had does did not which when where there their they "
    "into than then only also any each every more most please run running found missing failed".split()
)
SPANISH = frozenset(
    "de la el que en los las un una por con para se del es y su sus al lo como más pero está están son "
    "hay sin sobre cada este esta ese esa ya cuando donde porque tu tus o ni".split()
)
# Technical terms and proper names that read as English words but are the product's own vocabulary.
ALLOWED = frozenset({"dead letter queue", "consumer lag", "data quality", "not null", "is not null", "is null",
                     "order by", "group by", "from", "select"})  # fmt: skip

# Code: backticks, quotes, URLs, paths, name=value, identifiers (snake_case, dotted, a:b, CamelCase).
_CODE = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|https?://\S+|\S*/\S+|\w+=\S+|<[^>]+>"
                   r"|[\w.:-]*_[\w.:-]*|\w+(?:[.:]\w+)+|\b[a-z]+[A-Z]\w*")
_COMMIT = re.compile(r"^[\s*|/\\]*[0-9a-f]{7,40} ")
_WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ']+")


def english(line: str) -> bool:
    """Is this line English prose (see the module's docstring)?"""
    if _COMMIT.match(line):  # `git log --oneline`: commit messages are English by the project's rule
        return False
    text = _CODE.sub(" ", line).lower()
    for term in sorted(ALLOWED, key=len, reverse=True):  # "is not null" before "not null": set order is random
        text = text.replace(term, " ")
    words = _WORD.findall(text)
    en = [w for w in words if w in ENGLISH]
    es = [w for w in words if w in SPANISH]
    return len(set(en)) >= 2 and len(en) > len(es)


def _texts(output: dict) -> Iterator[str]:
    kind = output.get("output_type")
    if kind == "stream":
        yield "".join(output.get("text", ""))
    elif kind == "error":
        yield f"{output.get('ename', '')}: {output.get('evalue', '')}"
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "text/html" in data:
            raw = "".join(data["text/html"])
            raw = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", raw)
            yield html.unescape(re.sub(r"<[^>]+>", "\n", raw))
        elif "text/markdown" in data:
            yield "".join(data["text/markdown"])
        elif "text/plain" in data:
            yield "".join(data["text/plain"])


def english_lines(notebook: str | Path) -> list[tuple[int, str]]:
    """``(cell number, line)`` of every output line of an executed notebook that is English prose."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    found = []
    for number, cell in enumerate(cells, start=1):
        for output in cell.get("outputs", []):
            for text in _texts(output):
                found += [(number, line.strip()[:200]) for line in text.splitlines() if english(line)]
    return found
