"""A class on one server, measured: three learners at once on the class broker, their simulators
and JupyterHub (`dataops class up --hub`, run as root).

Prints, one per line:
  class_learners                 how many learners (3)
  class_up_s                     `dataops class up --hub` from nothing running: broker, Connect, Flink, front, simulators,
                                 users and rights, hub
  class_shared_rss_mb            what every class shares once up: the broker, Connect, Flink, the front, the hub and its proxy,
                                 and the learners' simulators' process less what its learners add to it
  class_simulators_rss_mb        that process (every learner's simulator in one, dataops.simulator.many), whole
  class_login_to_first_cell_s    the slowest of the three learners logging in at once, from the log-in form to the
                                 output of a first cell (`dataops.connect()`, their price, their topics) in a new kernel
  class_login_to_first_cell_p50_s  the median of the three
  class_marginal_rss_mb          one learner's processes, averaged: their JupyterLab server with a kernel that has
                                 imported the library; plus what their simulator adds to the simulators' process
                                 (class_marginal_simulator_mb: that process's growth when three more simulators join,
                                 divided by three)
  class_marginal_uss_mb          the same processes' unique memory (USS): what one more learner adds, the shared
                                 libraries' pages being in memory once for the class; class_marginal_pss_mb
                                 with those pages shared out among the processes that map them
  class_rss_mb_<process>         the first learner's processes each (server, kernel)
  class_marginal_cpu_pct         one learner's processes' CPU (server, kernel, a third of the simulators'; % of one
                                 core), averaged,
                                 over 20 s with each kernel reading its price every second (a live dashboard's load)

  class_pipeline_rss_mb          what one learner's pipeline adds to the shared engines, averaged: the three run
                                 block 0's `p.up()` at once in their kernels (their topics, HTTP source and Iceberg
                                 sink on the shared Connect, explode job in a slot of the shared Flink)
  class_monitors_rss_mb          the class's monitor service (every learner's monitor in one process, dataops.monitor.many),
                                 whole, the three pipelines running
  class_marginal_monitor_mb      what one more learner's monitor adds to it: three more join, each sampling a running
                                 pipeline (the three learners' again, from copies of their settings files), for 20 s
  class_monitor_cpu_pct          the monitor service's CPU per learner (% of one core) while the three pipelines run
  class_apply_s                  the slowest of those three `p.up()`, each until every layer of theirs reported
  class_freshness_p95_s          price change -> the learner's DuckDB, the three pipelines running and each kernel
                                 watching its own table (``--freshness-s``, default 60); class_freshness_p50_s too
  class_grade_s                  `dataops grade --class DIR --in-class --jobs 3`: the three hand in block 2's master,
                                 graded at once, each in their namespace as their own user

Runs in its own state folder (.stack/bench-class) and ports (the usual ones + 900); the three Unix
users it makes (bench_a, bench_b, bench_c) are removed at the end, with everything it started.
Usage: sudo .venv/bin/python benchmarks/class.py
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import statistics
import sys
import threading
import time

from _common import cpu_seconds

import psutil
import requests

from dataops.artifacts import share_downloads
from dataops.classroom import broker, hub, monitors, simulators
from dataops.classroom import connect as class_connect
from dataops.classroom import flink as class_flink
from dataops.classroom.hub_config import existing_user, remove_user
from dataops.classroom.hubclient import HubSession
from dataops.cli import main as dataops_main
from dataops.config import PORTS, load_settings
from dataops.course.catalog import NOTEBOOKS
from dataops.stack import Stack

LEARNERS = ("bench_a", "bench_b", "bench_c")
SHIFT = 900
FIRST_CELL = ("import dataops\np = dataops.connect()\n"
              "print(p.settings.learner, p.source.price('bitcoin').shape, p.kafka.topic_names())")  # fmt: skip
POLL = "import time\nfor _ in range({n}):\n    p.source.price('bitcoin')\n    time.sleep(1)\n"
# block 0's `p.up()`: the class's engines and their monitor answering, their pipeline set up, every layer reporting
APPLY = "p.up(progress=False, ready_timeout_s=180)\nprint('OK')\n"
# benchmarks/freshness.py's watch, in a learner's kernel: the seconds from each new tick to its row in their DuckDB
WATCH = """import json, time
seen = set(map(int, p.sql("SELECT DISTINCT last_updated_at FROM crypto_prices_exploded")["last_updated_at"]))
start, samples = time.time(), []
while time.time() - start < {seconds}:
    ticks = p.sql(f"SELECT DISTINCT last_updated_at FROM crypto_prices_exploded WHERE last_updated_at >= {{int(start) - 60}}")
    now = time.time()
    for tick in map(int, ticks["last_updated_at"]):
        if tick not in seen:
            seen.add(tick)
            if tick >= start:
                samples.append(now - tick)
    time.sleep(0.2)
print(json.dumps(samples))
"""


def tree_rss_mb(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def learner_processes(name: str) -> list[psutil.Process]:
    uid = pwd.getpwnam(name).pw_uid
    return [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poll-s", type=int, default=20, help="seconds of the steady window (default 20)")
    parser.add_argument("--freshness-s", type=int, default=60, help="seconds each kernel watches its table (default 60)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("error: the class hub starts each learner's server as that learner: run this as root (sudo)", file=sys.stderr)
        sys.exit(2)
    suite = load_settings(profile="local")
    root = suite.paths.root / "bench-class"
    shutil.rmtree(root, ignore_errors=True)
    ports = {f"{name}_port": port + SHIFT for name, port in PORTS.items() if name.startswith("class") or name.startswith("kafka_class")}
    for key in [k for k in os.environ if k.startswith("DATAOPS_") and k != "DATAOPS_CI"]:
        del os.environ[key]
    os.environ.update({"DATAOPS_STATE_DIR": str(root), **{f"DATAOPS_{k.upper()}": str(v) for k, v in ports.items()}})
    s = load_settings(profile="local")
    share_downloads(suite.paths, s.paths)
    roster = root / "clase.yaml"
    roster.parent.mkdir(parents=True, exist_ok=True)
    roster.write_text(f"learners: [{', '.join(LEARNERS)}]\n")
    made = [name for name in LEARNERS if existing_user(name) is None]
    try:
        t0 = time.monotonic()
        assert dataops_main(["class", "up", "--roster", str(roster), "--hub", "--quiet"]) == 0
        print(f"class_learners={len(LEARNERS)}")
        print(f"class_up_s={time.monotonic() - t0:.1f}")
        status = Stack(s).status().set_index("component")
        engines = (broker.NAME, class_connect.NAME, class_connect.FRONT, class_flink.JOBMANAGER, class_flink.TASKMANAGER, hub.NAME)
        shared = sum(tree_rss_mb(int(status.loc[name, "pid"])) for name in engines)

        code = hub.hub_secrets(s.paths)["class_code"]
        sessions = {name: HubSession(f"http://{s.host}:{s.class_hub_port}", name) for name in LEARNERS}
        kernels: dict[str, str] = {}
        took: dict[str, float] = {}

        def first_cell(name: str) -> None:
            start = time.monotonic()
            session = sessions[name]
            assert session.login(code) == 200
            session.wait_server()
            kernels[name] = session.start_kernel()
            out = session.execute(kernels[name], FIRST_CELL)
            assert out.startswith(name), out
            took[name] = time.monotonic() - start

        threads = [threading.Thread(target=first_cell, args=(name,)) for name in LEARNERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(took) == len(LEARNERS), f"only {sorted(took)} got to a first cell"
        print(f"class_login_to_first_cell_s={max(took.values()):.1f}")
        print(f"class_login_to_first_cell_p50_s={statistics.median(took.values()):.1f}")

        time.sleep(2)
        sims = psutil.Process(int(Stack(s).status().set_index("component").loc[simulators.NAME, "pid"]))
        whole, per_sim, sim_uss = _simulators_growth(s, sims)
        print(f"class_simulators_rss_mb={whole:.0f}")
        print(f"class_shared_rss_mb={shared + whole - len(LEARNERS) * per_sim:.0f}")
        print(f"class_marginal_simulator_mb={per_sim:.1f}")
        per_learner = [sum(p.memory_info().rss for p in learner_processes(n)) / 2**20 + per_sim for n in LEARNERS]
        print(f"class_marginal_rss_mb={statistics.mean(per_learner):.0f}")
        # RSS counts the pages of the shared libraries (Python's, pandas', pyarrow's, one venv for all) in every
        # process; they are in memory once for the whole class. USS is what only that learner's processes hold:
        # what one more learner adds. PSS shares the common pages out among the processes mapping them.
        full = {n: [q.memory_full_info() for q in learner_processes(n)] for n in LEARNERS}
        print(f"class_marginal_uss_mb={statistics.mean(sum(m.uss for m in full[n]) / 2**20 for n in LEARNERS) + sim_uss:.0f}")
        print(f"class_marginal_pss_mb={statistics.mean(sum(m.pss for m in full[n]) / 2**20 for n in LEARNERS) + sim_uss:.0f}")
        for proc in learner_processes(LEARNERS[0]):
            kind = "kernel" if "ipykernel" in " ".join(proc.cmdline()) else "server" if "singleuser" in " ".join(proc.cmdline()) else "other"
            print(f"class_rss_mb_{kind}={proc.memory_info().rss / 2**20:.0f}")

        procs = {n: learner_processes(n) for n in LEARNERS}
        before = {n: cpu_seconds(procs[n]) for n in LEARNERS}
        sims_before = cpu_seconds([sims])
        t1 = time.monotonic()
        polls = [threading.Thread(target=sessions[n].execute, args=(kernels[n], POLL.format(n=args.poll_s), args.poll_s + 60))
                 for n in LEARNERS]  # fmt: skip
        for thread in polls:
            thread.start()
        for thread in polls:
            thread.join()
        wall = time.monotonic() - t1
        sims_share = (cpu_seconds([sims]) - sims_before) / len(LEARNERS)  # the three polled their simulators in it
        pct = [100 * (cpu_seconds(procs[n]) - before[n] + sims_share) / wall for n in LEARNERS]
        print(f"class_marginal_cpu_pct={statistics.mean(pct):.1f}")

        status = Stack(s).status().set_index("component")
        before_mb = sum(tree_rss_mb(int(status.loc[name, "pid"])) for name in engines)
        applied: dict[str, float] = {}

        def apply(name: str) -> None:
            start = time.monotonic()
            out = sessions[name].execute(kernels[name], APPLY, 400)
            assert "OK" in out, f"{name}: {out[-500:]}"
            applied[name] = time.monotonic() - start

        _at_once(apply)
        assert len(applied) == len(LEARNERS), f"only {sorted(applied)} applied their pipeline"
        print(f"class_apply_s={max(applied.values()):.1f}")
        time.sleep(5)
        status = Stack(s).status().set_index("component")
        after_mb = sum(tree_rss_mb(int(status.loc[name, "pid"])) for name in engines)
        print(f"class_pipeline_rss_mb={(after_mb - before_mb) / len(LEARNERS):.0f}")
        assert not [p for n in LEARNERS for p in learner_processes(n) if "dataops.monitor" in " ".join(p.cmdline())], "a learner's own monitor"
        whole, per_monitor = _monitors_growth(s, psutil.Process(int(status.loc[monitors.NAME, "pid"])))
        print(f"class_monitors_rss_mb={whole:.0f}")
        print(f"class_marginal_monitor_mb={per_monitor:.1f}")

        samples: list[float] = []

        def watch(name: str) -> None:
            out = sessions[name].execute(kernels[name], WATCH.format(seconds=args.freshness_s), args.freshness_s + 120)
            samples.extend(json.loads(out.strip().splitlines()[-1]))

        service = psutil.Process(int(Stack(s).status().set_index("component").loc[monitors.NAME, "pid"]))
        service_before, t3 = cpu_seconds([service]), time.monotonic()
        _at_once(watch)
        share = 100 * (cpu_seconds([service]) - service_before) / (time.monotonic() - t3) / len(LEARNERS)
        print(f"class_monitor_cpu_pct={share:.1f}")
        assert samples, "no new price reached a learner's DuckDB while watching"
        print(f"class_freshness_samples={len(samples)}")
        print(f"class_freshness_p50_s={statistics.median(samples):.1f}")
        print(f"class_freshness_p95_s={statistics.quantiles(samples, n=20)[-1]:.1f}")

        klass = root / "entregas"
        for name in LEARNERS:
            (klass / name).mkdir(parents=True)
            shutil.copy(NOTEBOOKS / "02_diseno_dataops.ipynb", klass / name)
        t2 = time.monotonic()
        assert dataops_main(["grade", "--class", str(klass), "--in-class", "--jobs", str(len(LEARNERS))]) == 0
        print(f"class_grade_s={time.monotonic() - t2:.1f}")

    finally:
        dataops_main(["class", "down"])
        for name in made:
            remove_user(name)
        shutil.rmtree(root, ignore_errors=True)


def _at_once(work) -> None:
    threads = [threading.Thread(target=work, args=(name,)) for name in LEARNERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _simulators_growth(s, sims: psutil.Process) -> tuple[float, float, float]:
    """The simulators' process's RSS (MB) with the class's learners, and what one more learner's simulator
    adds to its RSS and to its USS: three more join (each on a port of its own), then leave."""
    time.sleep(1)
    before, before_uss = sims.memory_info().rss / 2**20, sims.memory_full_info().uss / 2**20
    extra = [f"bench_extra_{i}" for i in range(3)]
    given = simulators.ports(s, [*LEARNERS, *extra])
    for name in extra:
        simulators.start(s, name, given[name])
        requests.get(f"http://{s.host}:{given[name]}/api/v3/simple/price?ids=bitcoin&vs_currencies=usd", timeout=5)
    time.sleep(1)
    after, after_uss = sims.memory_info().rss / 2**20, sims.memory_full_info().uss / 2**20
    for name in extra:
        simulators.stop(s, name)
    return before, (after - before) / len(extra), (after_uss - before_uss) / len(extra)


def _monitors_growth(s, service: psutil.Process) -> tuple[float, float]:
    """The monitor service's RSS (MB) with the class's learners, and what one more learner's monitor adds:
    three more join, each sampling one of the running pipelines (a copy of that learner's settings file
    on a port of its own), for 20 s, then leave."""
    from dataops.classroom import access, specs

    before = service.memory_info().rss / 2**20
    extra = {f"bench_extra_{i}": name for i, name in enumerate(LEARNERS)}
    ports = {name: port for name, port in simulators.ports(s, [*LEARNERS, *extra], "MONITOR_PORT", s.class_monitor_port).items() if name in extra}
    for name, like in extra.items():
        copy = s.paths.classroom / "bench" / f"{name}.env"
        copy.parent.mkdir(parents=True, exist_ok=True)
        lines = [line for line in access.env_file(s.paths, like).read_text().splitlines() if not line.startswith("DATAOPS_MONITOR_PORT=")]
        copy.write_text("\n".join([*lines, f"DATAOPS_MONITOR_PORT={ports[name]}"]) + "\n")
        copy.chmod(0o600)
        specs.change(s, monitors.SPEC, monitors.NAME, name, {"settings": str(copy), "folder": str(copy.parent / name)})
    deadline = time.monotonic() + 60
    while not all(_answers(f"http://{s.host}:{port}/metrics") for port in ports.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(20)
    after = service.memory_info().rss / 2**20
    for name in extra:
        specs.change(s, monitors.SPEC, monitors.NAME, name, None)
    return before, (after - before) / len(extra)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
