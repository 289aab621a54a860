"""Existing homes grown on spawn (issue 21): what the hub ships and the Role it needs.

The behaviour itself (a claim raised through the API server's PersistentVolumeClaimResize
admission, a refusal logged and the server started) is proven with the real hub on the
real API server: tests/k8s/test_home_expansion.py. RBAC as the hub's own token:
tests/k8s/test_rbac.py.
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest

from jupyter_constructs import UserStorage
from jupyter_constructs.core.quantities import parse_memory
from tests.helpers import find, make_hub, synth, write_config_dir
from tests.real_hub import load_config, unknown_traits

FILES = Path(__file__).resolve().parents[2] / "jupyter_constructs" / "hub" / "files"


def _home_expansion():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("home_expansion", FILES / "home_expansion.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_claim_per_user_ships_the_hook_and_the_patch_verb(tmp_path):
    objects = synth(make_hub()[0])
    data = find(objects, "ConfigMap", "hub-config")["data"]
    assert data["home_expansion.py"] == (FILES / "home_expansion.py").read_text()
    assert json.loads(data["hub_config.json"])["grow_homes"] is True
    rules = find(objects, "Role", "hub")["rules"]
    patching = [r for r in rules if "patch" in r["verbs"]]
    assert [r["resources"] for r in patching] == [["persistentvolumeclaims"]]
    config = load_config(write_config_dir(objects, tmp_path))
    assert unknown_traits(config) == []
    assert callable(config.KubeSpawner.pre_spawn_hook)


@pytest.mark.parametrize(
    "storage", [UserStorage.shared("homes"), UserStorage.none()], ids=["shared", "none"]
)
def test_no_claim_per_user_no_hook_no_patch(storage, tmp_path):
    objects = synth(make_hub(user_storage=storage)[0])
    data = find(objects, "ConfigMap", "hub-config")["data"]
    assert "home_expansion.py" not in data
    assert "grow_homes" not in json.loads(data["hub_config.json"])
    assert all("patch" not in r["verbs"] for r in find(objects, "Role", "hub")["rules"])
    config = load_config(write_config_dir(objects, tmp_path))
    assert "pre_spawn_hook" not in config.get("KubeSpawner", {})


@pytest.mark.parametrize(
    "quantity", ["10Gi", "1.5Gi", "500Mi", "20G", "10737418240", "1048576", "0.5Ti", "100k", "1Pi"]
)
def test_the_hub_reads_sizes_as_the_product_does(quantity):
    """The hub-side parser (no project code in the hub image) against the product's own."""
    assert _home_expansion().parse_quantity(quantity) == Decimal(
        parse_memory("test", "size", quantity)
    )


@pytest.mark.parametrize("text", ["", "ten", "10 Gi", "10GB", "Gi"])
def test_what_is_not_a_size_is_left_alone(text):
    assert _home_expansion().parse_quantity(text) is None


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: object) -> None:
        self.warnings.append(message % args)

    def info(self, message: str, *args: object) -> None:  # pragma: no cover - not reached
        pass


@pytest.mark.parametrize("server", ["refused", "silent"])
def test_an_api_server_that_fails_or_hangs_never_holds_up_the_spawn(server):
    """The hook runs before ``start()`` and outside ``start_timeout``: a connection refused
    (found when a hub's API server was down) or an API server that never answers must not
    fail or block the spawn. The real ``kubernetes_asyncio`` client, as KubeSpawner builds
    it, against a closed port and against a socket that accepts and never answers."""
    import asyncio
    import socket
    from types import SimpleNamespace

    from kubernetes_asyncio import client

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if server == "refused":
        listener.close()
    else:
        listener.listen(8)

    async def run() -> _Log:
        configuration = client.Configuration(host=f"http://127.0.0.1:{port}")
        async with client.ApiClient(configuration) as api_client:
            log = _Log()
            spawner = SimpleNamespace(
                storage_pvc_ensure=True,
                storage_capacity="20Gi",
                pvc_name="claim-alice",
                namespace="jupyter",
                api=client.CoreV1Api(api_client),
                k8s_api_request_timeout=0.5,
                log=log,
                user=SimpleNamespace(name="alice"),
            )
            hook = _home_expansion().with_home_growth(None)
            await asyncio.wait_for(hook(spawner), 5)  # returns, never raises
            return log

    try:
        log = asyncio.run(run())
    finally:
        listener.close()
    assert len(log.warnings) == 1
    assert "Home claim of alice: its size was not checked" in log.warnings[0]
    assert "the server starts as it is" in log.warnings[0]
