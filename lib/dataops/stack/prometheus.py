"""The optional Prometheus server of the local stack (``dataops up --with prometheus``).

It scrapes the monitor's ``/metrics`` every 5 s and evaluates the project's alert rules,
exported as Prometheus alerting rules (:mod:`dataops.alerts.prometheus`), so an incident can
be watched firing in both engines. The binary comes from Debian's ``prometheus`` package
(or the release tarball at prometheus.io); the stack runs without it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import requests
import yaml

from dataops.config import Settings
from dataops.engine import Component
from dataops.errors import ToolMissingError
from dataops.paths import StatePaths

INTERVAL = "5s"
HOW_TO_GET = "instala el paquete `prometheus` de Debian (`apt-get install prometheus`) o el tarball de la release de prometheus.io"


def binary() -> str:
    """The ``prometheus`` executable.

    Raises:
        ToolMissingError: It is not installed (one line: how to get it).
    """
    found = shutil.which("prometheus")
    if found is None:
        raise ToolMissingError("prometheus no está instalado (es opcional)", f"{HOW_TO_GET}, y luego `dataops up --with prometheus`")
    return found


def folder(paths: StatePaths) -> Path:
    return paths.root / "prometheus"


def url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.prometheus_port}"


def write_rules(paths: StatePaths, rules: Iterable[Any] | None = None) -> Path:
    """Write the alert rules (default ``data/alerts/rules.yaml``) as Prometheus's rule file."""
    from dataops import alerts

    target = folder(paths) / "rules.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(alerts.to_prometheus_yaml(list(alerts.load_rules() if rules is None else rules)), encoding="utf-8")
    return target


def command(settings: Settings, paths: StatePaths) -> list[str]:
    """The server's command line; writes its configuration and the rule file first."""
    exe = binary()
    home = folder(paths)
    write_rules(paths)
    config = {
        "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL},
        "rule_files": ["rules.yml"],
        "scrape_configs": [{"job_name": "dataops", "static_configs": [{"targets": [f"{settings.host}:{settings.monitor_port}"]}]}],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return [exe, f"--config.file={home / 'prometheus.yml'}", f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address={settings.host}:{settings.prometheus_port}", "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=2d", "--log.level=warn"]  # fmt: skip


def healthy(settings: Settings) -> bool:
    try:
        return requests.get(f"{url(settings)}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def components(s: Settings) -> list[Component]:
    """The optional server, as a component of the local stack (started only by ``up --with prometheus``)."""
    return [
        Component(
            "prometheus",
            s.prometheus_port,
            (s.prometheus_port,),
            f"http://{s.host}:{s.prometheus_port}",
            command,
            healthy,
            start_timeout=30,
            optional=True,
        ),
    ]


def load_rules(settings: Settings, rules: Iterable[Any]) -> Path:
    """Replace the running server's rules with ``rules`` and reload it."""
    path = write_rules(settings.paths, rules)
    requests.post(f"{url(settings)}/-/reload", timeout=10).raise_for_status()
    return path


def firing(settings: Settings) -> pd.DataFrame:
    """The server's alerts now: ``rule, state`` (pending | firing), ``severity``, ``labels``, ``value``."""
    data = requests.get(f"{url(settings)}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    rows = [{"rule": a["labels"].get("alertname"), "state": a["state"], "severity": a["labels"].get("severity"),
             "labels": ",".join(f"{k}={v}" for k, v in sorted(a["labels"].items()) if k not in ("alertname", "severity")),
             "value": float(a.get("value", "nan"))} for a in data]  # fmt: skip
    return pd.DataFrame(rows, columns=["rule", "state", "severity", "labels", "value"])
