"""Synth benchmark (issue 2): ``make bench``.

Prints medians of repeated runs, every run in a fresh Python process so that imports
(cdk8s, cdk8s-plus-27 and the jsii runtime, which starts a Node.js child process) are
counted honestly:

- floor: ``python -c "import cdk8s_plus_27"``, the least any cdk8s-plus app pays;
- reference: ``python main.py`` (the reference platform) into a temporary ``CDK8S_OUTDIR``;
- 1, 10 and 50 hubs in one app, each hub in its own Chart and namespace with one profile,
  written by ``jupyter_constructs.synthesize`` (the library's layout: a folder per chart,
  a file per object) into a temporary folder.

Every figure is the wall time of the whole process (start to exit), measured by this
script around ``subprocess.run``. For the hub runs the child also reports the time spent
inside it on imports, on building the constructs and on synthesizing (``synthesize``
minus the build: sync waves, validation, rendering, writing), printed in parentheses.

Goals (issue 2): reference synth within 1.5x the floor; each extra hub adds < 100 ms.
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

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
FLOOR_GOAL = 1.5
PER_HUB_GOAL_MS = 100.0


def build_hubs(app: object, count: int) -> None:
    """``count`` hubs, each in its own Chart and namespace, each with one profile."""
    import cdk8s

    from jupyter_constructs import CloudflareAccessAuth, JupyterHub

    assert isinstance(app, cdk8s.App)
    for i in range(count):
        chart = cdk8s.Chart(app, f"hub{i}", namespace=f"jupyter-{i}")
        hub = JupyterHub(
            chart,
            "hub",
            domain=f"hub{i}.example.com",
            auth=CloudflareAccessAuth(
                team_domain="example.cloudflareaccess.com",
                audience="0123456789abcdef",
                allow_all=True,
            ),
        )
        hub.add_profile("small", display_name="Small", default=True)


def child(count: int, outdir: str) -> None:
    """Child process: ``synthesize`` ``count`` hubs; print the inner timings."""
    start = time.perf_counter()
    import cdk8s  # noqa: F401

    from jupyter_constructs import synthesize

    imported = time.perf_counter()
    build_seconds: list[float] = []

    def build(app: object) -> None:
        begin = time.perf_counter()
        build_hubs(app, count)
        build_seconds.append(time.perf_counter() - begin)

    synthesize(build, outdir=outdir)
    done = time.perf_counter()
    build_time = build_seconds[0]
    print(
        json.dumps(
            {
                "import": imported - start,
                "build": build_time,
                "synth": done - imported - build_time,
            }
        )
    )


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


def bench_reference(runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
            env = {**ENV, "CDK8S_OUTDIR": str(Path(tmp) / "dist")}
            times.append(timed([sys.executable, "main.py"], env=env)[0])
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    reference = bench_reference(runs)
    print(f"  reference synth (main.py)                {reference:6.2f} s")
    hub_walls: dict[int, float] = {}
    hub_inside: dict[int, float] = {}
    for count in counts:
        wall, inner = bench_hubs(runs, count)
        hub_walls[count] = wall
        hub_inside[count] = inner["build"] + inner["synth"]
        print(
            f"  {count:3d} hub(s) in one app                    {wall:6.2f} s"
            f"   (inside: import {inner['import']:.2f} s, build {inner['build']:.2f} s,"
            f" synth {inner['synth']:.2f} s)"
        )
    ratio = reference / floor
    print(
        f"reference / floor: {ratio:.2f}x "
        f"(goal <= {FLOOR_GOAL}x: {'met' if ratio <= FLOOR_GOAL else 'MISSED'})"
    )
    if len(counts) >= 2:
        lo, hi = min(counts), max(counts)
        per_hub_ms = (hub_walls[hi] - hub_walls[lo]) / (hi - lo) * 1000
        print(
            f"per extra hub: {per_hub_ms:.0f} ms = (t{hi} - t{lo}) / {hi - lo} "
            f"(goal < {PER_HUB_GOAL_MS:.0f} ms: "
            f"{'met' if per_hub_ms < PER_HUB_GOAL_MS else 'MISSED'})"
        )
        inside_ms = (hub_inside[hi] - hub_inside[lo]) / (hi - lo) * 1000
        print(f"per extra hub, inside the process (build + synth only): {inside_ms:.0f} ms")
    if args.profile:
        profile(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
