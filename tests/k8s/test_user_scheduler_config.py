"""The user scheduler's configuration, judged by the real kube-scheduler of the pinned release.

Not a hand-written schema: the kube-scheduler binary that ``make real-consumers`` builds
(the release ``UserScheduler`` pins, v1.34.3) loads the rendered ``config.json`` exactly
as its pod does (``--config``), with its own strict decoder (an unknown or misspelled
field is an error), its defaulting and its validation (``ValidateKubeSchedulerConfiguration``
and each plugin's arguments, checked when the profile's framework is built), then
writes the configuration it would run with (``--write-config-to``) and exits before
contacting any API server (``--master`` names an address nothing listens on; no serving
port). About 0.2 s per run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_constructs import UserScheduler
from jupyter_constructs.addons.scheduling import KUBERNETES_VERSION, SCHEDULER_CONFIG_FILE
from tests.helpers import find, make_hub, synth
from tests.support.kube import binaries

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def kube_scheduler() -> Path:
    path = binaries.require("kube-scheduler")["kube-scheduler"]
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True).stdout
    # The binary the tests judge with is the release UserScheduler pins by default.
    assert version.strip() == f"Kubernetes v{KUBERNETES_VERSION}", version
    return path


def rendered_config(**options: Any) -> str:
    chart, hub = make_hub()
    UserScheduler(chart, "scheduler", hub=hub, **options)
    return str(find(synth(chart), "ConfigMap", "user-scheduler")["data"][SCHEDULER_CONFIG_FILE])


def load(kube_scheduler: Path, config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run kube-scheduler with ``config`` as its ``--config``; it writes what it would run."""
    (tmp_path / "config.json").write_text(config)
    return subprocess.run(
        [
            str(kube_scheduler),
            f"--config={tmp_path / 'config.json'}",
            f"--write-config-to={tmp_path / 'effective.yaml'}",
            # Where the client would connect; nothing is contacted before the write.
            "--master=https://127.0.0.1:1",
            "--secure-port=0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_real_kube_scheduler_runs_the_rendered_configuration(
    kube_scheduler: Path, tmp_path: Path
) -> None:
    result = load(kube_scheduler, rendered_config(), tmp_path)
    assert result.returncode == 0, result.stderr
    effective = yaml.safe_load((tmp_path / "effective.yaml").read_text())
    (profile,) = effective["profiles"]
    assert profile["schedulerName"] == "jupyter-user-scheduler"
    args = {c["name"]: c["args"] for c in profile["pluginConfig"]}
    assert args["NodeResourcesFit"]["scoringStrategy"] == {
        "type": "MostAllocated",
        "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}],
    }
    # The weights it scores with, after merging ours into its default plugin set.
    score = {p["name"]: p.get("weight") for p in profile["plugins"]["multiPoint"]["enabled"]}
    score.update({p["name"]: p["weight"] for p in profile["plugins"]["score"]["enabled"]})
    assert score["NodeAffinity"] == 14631 and score["NodeResourcesFit"] == 121
    disabled = {p["name"] for p in profile["plugins"]["score"].get("disabled", [])}
    assert "NodeResourcesBalancedAllocation" in disabled
    assert effective["leaderElection"]["resourceNamespace"] == "jupyter"
    assert effective["leaderElection"]["resourceName"] == "user-scheduler-lock"
    assert effective["enableProfiling"] is False
    # In a pod: in-cluster credentials (no kubeconfig file).
    assert effective["clientConnection"]["kubeconfig"] == ""


def test_leader_election_settings_reach_the_scheduler(kube_scheduler: Path, tmp_path: Path) -> None:
    config = rendered_config(lease_duration=60, renew_deadline=40, retry_period=5)
    result = load(kube_scheduler, config, tmp_path)
    assert result.returncode == 0, result.stderr
    election = yaml.safe_load((tmp_path / "effective.yaml").read_text())["leaderElection"]
    assert (election["leaseDuration"], election["renewDeadline"], election["retryPeriod"]) == (
        "1m0s",
        "40s",
        "5s",
    )


def test_the_judge_refuses_a_misspelled_field(kube_scheduler: Path, tmp_path: Path) -> None:
    """The check is not vacuous: the real decoder is strict, down to a plugin's arguments."""
    config = json.loads(rendered_config())
    fit = config["profiles"][0]["pluginConfig"][0]["args"]
    fit["scoringStrategi"] = fit.pop("scoringStrategy")
    result = load(kube_scheduler, json.dumps(config), tmp_path)
    assert result.returncode != 0
    # klog quotes the error: its inner quotes are escaped.
    assert (
        "decoding args for plugin NodeResourcesFit: strict decoding error: "
        'unknown field \\"scoringStrategi\\"' in result.stderr
    ), result.stderr


def test_the_judge_refuses_what_its_validation_refuses(
    kube_scheduler: Path, tmp_path: Path
) -> None:
    """Leader election the library refuses at synth is refused by the scheduler too."""
    config = json.loads(rendered_config())
    config["leaderElection"]["renewDeadline"] = "20s"  # more than the 15s lease
    result = load(kube_scheduler, json.dumps(config), tmp_path)
    assert result.returncode != 0
    assert "leaderElection.leaseDuration: Invalid value" in result.stderr, result.stderr
    assert "must be greater than `RenewDeadline`" in result.stderr, result.stderr
