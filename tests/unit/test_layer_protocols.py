"""Each layer's protocol (what a notebook may call on ``p.kafka``, ``p.flink``, …): a call that
changes something is marked with ``@action`` and its name starts with an action verb, a read-only
call's name does not; and the classes the profiles build offer every member of their protocol,
with a compatible signature (the parameter types are mypy's job: tests/unit/test_types.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import typing
from typing import Any, Protocol

import pytest

from dataops.protocols import ACTION_VERBS, action, is_action, is_action_name, members

pytestmark = pytest.mark.unit

# Protocol -> the classes that serve it (the Iceberg layer on Tableflow's catalog is the same class).
PROTOCOLS: dict[str, tuple[str, ...]] = {
    "dataops.source.protocol.Source": ("dataops.source.layer.SimulatorLayer", "dataops.source.api.CoinGeckoLayer"),
    "dataops.kafka.protocol.Kafka": ("dataops.kafka.layer.KafkaLayer",),
    "dataops.kafka_connect.protocol.Connect": ("dataops.kafka_connect.layer.ConnectLayer",),
    "dataops.flink.protocol.Flink": ("dataops.flink.layer.FlinkLayer",),
    "dataops.iceberg.protocol.Iceberg": ("dataops.iceberg.layer.IcebergLayer",),
    "dataops.duck.protocol.Duck": ("dataops.duck.layer.DuckLayer",),
    "dataops.registry.protocol.SchemaRegistry": ("dataops.registry.layer.SchemaRegistryLayer",),
    "dataops.dlq.protocol.DeadLetterQueue": ("dataops.dlq.layer.DeadLetters",),
}
# Pipeline attribute -> its protocol.
ATTRIBUTES = {"source": "Source", "kafka": "Kafka", "connect": "Connect", "flink": "Flink", "iceberg": "Iceberg",
              "duck": "Duck", "schema_registry": "SchemaRegistry", "dlq": "DeadLetterQueue"}  # fmt: skip


def load(dotted: str) -> Any:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def naming_problems(protocol: type) -> list[str]:
    """Members whose ``@action`` mark and name disagree."""
    problems = []
    for name, member in members(protocol).items():
        marked, verb = is_action(member), is_action_name(name)
        if marked and not verb:
            problems.append(f"{protocol.__name__}.{name} is an @action but starts with no verb of ACTION_VERBS")
        elif verb and not marked:
            problems.append(f"{protocol.__name__}.{name} starts with an action verb but is not an @action")
    return problems


def signature_problems(protocol: type, cls: type) -> list[str]:
    """What ``cls`` lacks of ``protocol``: a member, a property, or a way to call a method.

    A compatible method accepts every call the protocol's allows: the same positional parameters in
    the same order, every keyword with the same default, ``*args``/``**kwargs`` where the protocol
    has them; anything it adds has a default.
    """
    problems = []
    where = f"{cls.__name__} vs {protocol.__name__}"
    for name, member in members(protocol).items():
        found = inspect.getattr_static(cls, name, None)
        if found is None:
            problems.append(f"{where}: no {name}")
            continue
        if isinstance(member, property):
            if not isinstance(found, property):
                problems.append(f"{where}: {name} is not a property")
            continue
        if not callable(found) or isinstance(found, (property, staticmethod, classmethod)):
            problems.append(f"{where}: {name} is not a method")
            continue
        wanted = list(inspect.signature(member).parameters.values())[1:]  # self
        offered = list(inspect.signature(found).parameters.values())[1:]
        by_name = {p.name: p for p in offered}
        kinds = {p.kind for p in offered}
        for i, p in enumerate(wanted):
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                if p.kind not in kinds:
                    problems.append(f"{where}: {name} takes no {'*args' if p.kind == p.VAR_POSITIONAL else '**kwargs'}")
                continue
            q = by_name.get(p.name)
            if q is None:
                problems.append(f"{where}: {name} has no parameter {p.name}")
            elif q.kind != p.kind:
                problems.append(f"{where}: {name}'s {p.name} is {q.kind.description}, not {p.kind.description}")
            elif p.kind != p.KEYWORD_ONLY and offered.index(q) != i:
                problems.append(f"{where}: {name}'s {p.name} is not parameter {i + 1}")
            elif q.default != p.default:
                problems.append(f"{where}: {name}'s {p.name} defaults to {q.default!r}, not {p.default!r}")
        extra = [q for q in offered if q.name not in {p.name for p in wanted}
                 and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD) and q.default is q.empty]  # fmt: skip
        problems += [f"{where}: {name} requires {q.name}, which the protocol does not pass" for q in extra]
    return problems


@pytest.mark.parametrize("dotted", sorted(PROTOCOLS))
def test_changing_calls_are_marked_and_named_with_an_action_verb(dotted):
    protocol = load(dotted)
    assert members(protocol), f"{dotted} names nothing"
    assert naming_problems(protocol) == []


@pytest.mark.parametrize(("dotted", "cls"), [(p, c) for p, classes in sorted(PROTOCOLS.items()) for c in classes])
def test_each_layer_class_satisfies_its_protocol(dotted, cls):
    assert signature_problems(load(dotted), load(cls)) == []


def test_each_protocol_is_exported_by_its_package():
    for dotted in PROTOCOLS:
        module, name = dotted.rsplit(".", 1)
        package = importlib.import_module(module.rsplit(".", 1)[0])
        assert getattr(package, name) is load(dotted) and name in package.__all__, dotted


def test_the_profiles_build_the_classes_checked_here():
    """Every class a profile builds (the local and the confluent one) is one of the protocol's classes."""
    from dataops import load_settings

    served = {load(d).__name__: set(classes) for d, classes in PROTOCOLS.items()}
    for profile in ("local", "confluent"):
        settings = load_settings(profile=profile)
        for layer in settings.runs.layers:
            if layer in ("stack", "duck"):  # the stack is no layer protocol; DuckDB opens the table when built
                continue
            built = type(settings.runs.build(layer, settings, None))
            assert f"{built.__module__}.{built.__qualname__}" in served[ATTRIBUTES[layer]], (profile, layer)


def test_the_pipeline_returns_the_protocols():
    from dataops import pipeline
    from dataops.stack import Stack

    returns = {name: typing.get_type_hints(getattr(pipeline.Pipeline, name).fget)["return"] for name in ATTRIBUTES}
    assert {name: t.__name__ for name, t in returns.items()} == ATTRIBUTES
    assert all(load(d) in returns.values() for d in PROTOCOLS)
    assert typing.get_type_hints(pipeline.Pipeline.stack.fget)["return"] is Stack


LIGHT = {"pandas", "dataops.protocols", "dataops.config", "dataops.errors"}


def test_the_protocol_modules_are_light():
    """A protocol module imports the standard library, pandas and the library's base modules only
    (a client library such as confluent_kafka, pyiceberg or duckdb only under ``TYPE_CHECKING``)."""
    for dotted in (*PROTOCOLS, "dataops.protocols.action"):
        module = importlib.import_module(dotted.rsplit(".", 1)[0])
        imported = set()
        for node in ast.parse(inspect.getsource(module)).body:  # module level, `if TYPE_CHECKING:` left out
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
        heavy = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and m not in LIGHT}
        assert heavy == set(), dotted


# ---- the checks themselves --------------------------------------------------------------------
class _Mislabelled(Protocol):
    def delete_everything(self) -> None: ...  # changes, not marked

    @action
    def snapshots(self) -> int: ...  # marked, no verb

    def topics(self) -> int: ...  # fine


class _Wants(Protocol):
    @property
    def local(self) -> bool: ...

    def read(self, name: str | None = None, n: int = 5, **params: Any) -> int: ...

    def scan(self, a: int, b: int) -> int: ...


class _Offers:
    local = True  # not a property

    def read(self, name: str | None = None, n: int = 1, extra: int = 0) -> int:  # default, no **params
        return 0

    def scan(self, b: int, a: int, must: int) -> int:  # order, one more required
        return 0


def test_the_naming_check_finds_both_mistakes():
    assert naming_problems(_Mislabelled) == [
        "_Mislabelled.delete_everything starts with an action verb but is not an @action",
        "_Mislabelled.snapshots is an @action but starts with no verb of ACTION_VERBS",
    ]
    assert "delete" in ACTION_VERBS and not is_action_name("deleted_rows") and is_action_name("delete")


def test_the_signature_check_finds_what_a_class_lacks():
    assert signature_problems(_Wants, _Offers) == [
        "_Offers vs _Wants: local is not a property",
        "_Offers vs _Wants: read's n defaults to 1, not 5",
        "_Offers vs _Wants: read takes no **kwargs",
        "_Offers vs _Wants: scan's a is not parameter 1",
        "_Offers vs _Wants: scan's b is not parameter 2",
        "_Offers vs _Wants: scan requires must, which the protocol does not pass",
    ]

    class _Missing:
        pass

    assert signature_problems(_Wants, _Missing) == [f"_Missing vs _Wants: no {m}" for m in ("local", "read", "scan")]
