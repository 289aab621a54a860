"""Synth benchmark: ``make bench``.

Medians of repeated runs, every run in a fresh process, so that the imports (cdk8s,
cdk8s-plus-27 and the jsii runtime, which starts a Node.js child process) are counted:

- floor: ``python -c "import cdk8s_plus_27"``, the least any cdk8s-plus app pays;
- ``main.py``: ``python main.py`` (the reference platform) into a temporary
  ``CDK8S_OUTDIR``;
- ``make synth``: what the Makefile's ``synth`` target runs, into a temporary folder;
- N reference-scale hubs in one app (N = 1, 10, 50): each hub in its own Chart and
  namespace, built like the reference platform (four profiles, the seven platform
  bindings, observability, the Cloudflare tunnel), written by
  ``jupyter_constructs.synthesize``. The child reports the time spent inside it on
  imports, on building and on ``synthesize`` minus the build, the number of jsii
  round-trips (messages to the Node.js process and back) and its memory peak (Python
  and Node.js processes, ``VmHWM``).

Targets (issue 10), checked and printed:

- each extra reference-scale hub, inside one process (build + synth): <= 40 ms;
- ``main.py``: <= 1.5x the floor; ``make synth``: <= 1.7x the floor.

``--profile`` prints where the time of a 10-hub build and synth goes (cProfile).

Usage: ``python benchmarks/bench_synth.py [--runs 7] [--hubs 1,10,50] [--profile]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ)
PER_HUB_GOAL_MS = 40.0
MAIN_GOAL = 1.5
MAKE_SYNTH_GOAL = 1.7


def build_hubs(app: Any, count: int) -> None:
    """``count`` reference-scale hubs, each in its own Chart and namespace."""
    import cdk8s

    sys.path.insert(0, str(ROOT))
    import main

    for i in range(count):
        chart = cdk8s.Chart(app, f"hub{i}", namespace=f"jupyter-{i}")
        main.build_platform(chart, domain=f"hub{i}.example.com")


def _jsii_counter() -> list[int]:
    """Count the messages sent to the jsii runtime (one round-trip each)."""
    from jsii._kernel.providers import process

    calls = [0]
    send = process._NodeProcess.send

    def counting_send(self: Any, request: Any, response_type: Any) -> Any:
        calls[0] += 1
        return send(self, request, response_type)

    process._NodeProcess.send = counting_send  # type: ignore[method-assign]
    return calls


def _node_pid() -> str | None:
    """The jsii runtime's Node.js process (a child of this one)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if fields[1] == me and comm == "node":
            return entry.name
    return None


def _cpu_seconds(pid: str | None) -> float:
    """User + system CPU time of process ``pid`` so far (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_memory_kib(node: str | None) -> dict[str, int]:
    """VmHWM (peak resident set) of this process and of its Node.js child, in KiB."""

    def hwm(pid: str) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    return {"python": hwm("self"), "node": hwm(node) if node else 0}


def child(count: int, outdir: str) -> None:
    """Child process: ``synthesize`` ``count`` hubs; print the inner figures as JSON."""
    start = time.perf_counter()
    calls = _jsii_counter()
    import cdk8s  # noqa: F401

    from jupyter_constructs import synthesize

    imported = time.perf_counter()
    before = calls[0]
    node = _node_pid()
    cpu_before = time.process_time() + _cpu_seconds(node)
    build_seconds: list[float] = []

    def build(app: Any) -> None:
        begin = time.perf_counter()
        build_hubs(app, count)
        build_seconds.append(time.perf_counter() - begin)

    synthesize(build, outdir=outdir)
    done = time.perf_counter()
    build_time = build_seconds[0]
    result = {
        "import": imported - start,
        "build": build_time,
        "synth": done - imported - build_time,
        # CPU time of both processes (Python and Node.js) for build + synth: on a busy
        # machine wall times include waiting for a core; this does not.
        "cpu": time.process_time() + _cpu_seconds(node) - cpu_before,
        "jsii": calls[0] - before,
        **{f"mem_{k}": v for k, v in _peak_memory_kib(node).items()},
    }
    print(json.dumps(result))


def timed(cmd: list[str], *, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env or ENV, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {cmd}\n{proc.stderr}")
    return elapsed, proc.stdout


def median_of(runs: int, cmd: list[str], *, env: dict[str, str] | None = None) -> float:
    return statistics.median(timed(cmd, env=env)[0] for _ in range(runs))


def bench_main(runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-main-") as tmp:
            env = {**ENV, "CDK8S_OUTDIR": str(Path(tmp) / "dist")}
            times.append(timed([sys.executable, "main.py"], env=env)[0])
    return statistics.median(times)


def bench_make_synth(runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
            outdir = str(Path(tmp) / "dist")
            cmd = ["make", "--no-print-directory", "-s", "synth", f"OUTDIR={outdir}"]
            times.append(timed(cmd)[0])
    return statistics.median(times)


def bench_hubs(runs: int, count: int) -> tuple[float, dict[str, float]]:
    walls, inner = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-hubs-") as tmp:
            wall, out = timed(
                [sys.executable, __file__, "--child", str(count), str(Path(tmp) / "dist")]
            )
            walls.append(wall)
            inner.append(json.loads(out.strip().splitlines()[-1]))
    medians = {k: statistics.median(r[k] for r in inner) for k in inner[0]}
    return statistics.median(walls), medians


def profile(count: int) -> None:
    """cProfile of building and synthesizing ``count`` hubs (imports excluded)."""
    import cProfile
    import pstats

    from jupyter_constructs import synthesize

    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
        profiler = cProfile.Profile()
        profiler.enable()
        synthesize(lambda app: build_hubs(app, count), outdir=Path(tmp) / "dist")
        profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
    print(f"\ncProfile, {count} hubs, build + synthesize (cumulative time, top 25):")
    stats.print_stats(25)
    print("where the time is spent itself (tottime, top 10; readline = waiting for jsii):")
    stats.sort_stats("tottime").print_stats(10)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--hubs", default="1,10,50")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("COUNT", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return 0
    os.environ.update(ENV)
    counts = [int(c) for c in args.hubs.split(",")]
    runs = args.runs
    print(f"medians of {runs} runs, each a fresh process; wall time of the whole process")
    floor = median_of(runs, [sys.executable, "-c", "import cdk8s_plus_27"])
    print(f"  floor  python -c 'import cdk8s_plus_27'   {floor:6.2f} s")
    main_py = bench_main(runs)
    print(f"  python main.py                           {main_py:6.2f} s")
    make_synth = bench_make_synth(runs)
    print(f"  make synth                               {make_synth:6.2f} s")
    inside: dict[int, float] = {}
    cpu: dict[int, float] = {}
    jsii: dict[int, float] = {}
    for count in counts:
        wall, inner = bench_hubs(runs, count)
        inside[count] = inner["build"] + inner["synth"]
        cpu[count] = inner["cpu"]
        jsii[count] = inner["jsii"]
        print(
            f"  {count:3d} reference hub(s) in one app          {wall:6.2f} s"
            f"   (inside: import {inner['import']:.2f} s, build {inner['build']:.2f} s,"
            f" synth {inner['synth']:.2f} s, CPU {inner['cpu']:.2f} s;"
            f" {inner['jsii']:.0f} jsii round-trips;"
            f" peak memory python {inner['mem_python'] / 1024:.0f} MiB,"
            f" node {inner['mem_node'] / 1024:.0f} MiB)"
        )
    ratio = main_py / floor
    print(f"main.py / floor: {ratio:.2f}x (goal <= {MAIN_GOAL}x: {_verdict(ratio <= MAIN_GOAL)})")
    make_ratio = make_synth / floor
    print(
        f"make synth / floor: {make_ratio:.2f}x "
        f"(goal <= {MAKE_SYNTH_GOAL}x: {_verdict(make_ratio <= MAKE_SYNTH_GOAL)})"
    )
    if len(counts) >= 2:
        lo, hi = min(counts), max(counts)
        per_hub_ms = (inside[hi] - inside[lo]) / (hi - lo) * 1000
        print(
            f"per extra reference hub, inside the process (build + synth): {per_hub_ms:.0f} ms "
            f"(goal <= {PER_HUB_GOAL_MS:.0f} ms: {_verdict(per_hub_ms <= PER_HUB_GOAL_MS)})"
        )
        per_hub_cpu = (cpu[hi] - cpu[lo]) / (hi - lo) * 1000
        print(
            f"per extra reference hub, CPU time of Python and Node.js: {per_hub_cpu:.0f} ms "
            "(the same work, without the waiting a busy machine adds)"
        )
        per_hub_jsii = (jsii[hi] - jsii[lo]) / (hi - lo)
        print(f"jsii round-trips per extra reference hub: {per_hub_jsii:.0f}")
    if args.profile:
        profile(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
