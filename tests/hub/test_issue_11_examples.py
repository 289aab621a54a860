"""The small inputs of issue 11, each replayed as the issue wrote it.

Each one used to be accepted and rendered into manifests the API server, the kubelet or
KubeSpawner refuses later (or failed with a raw Python/jsii message); each is now a
``ConfigurationError`` in the house format at synth, or, for the init container without a
security context, rendered with the restricted one.
"""

from __future__ import annotations

import pytest

from jupyter_constructs import (
    ConfigurationError,
    Gpu,
    IdleCuller,
    IngressOptions,
    SecretRef,
)
from jupyter_constructs.core.security import restricted_violations
from tests.helpers import DOMAIN, make_hub, oidc_auth, synth
from tests.support.kube.product import UserChoice, render_user_pod


def _refused(build) -> str:
    with pytest.raises(ConfigurationError) as error:
        build()
    message = str(error.value)
    assert "Allowed: " in message and "Fix: " in message
    return message


def test_domain_with_a_trailing_newline():
    assert "invalid domain 'jupyter.example.com\\n'" in _refused(
        lambda: make_hub(domain="jupyter.example.com\n")
    )


def _profile(**options):
    _, hub = make_hub(with_profile=False)
    hub.add_profile("s", display_name="S", default=True, **options)
    return hub


def test_gpu_resource_name_with_a_space():
    assert "invalid gpu.resource_name 'NVIDIA GPU'" in _refused(
        lambda: _profile(gpu=Gpu(count=1, resource_name="NVIDIA GPU"))
    )


def test_post_start_command_given_as_one_string():
    message = _refused(lambda: _profile(post_start_command="echo hi"))
    assert "invalid post_start_command 'echo hi'. Allowed: a non-empty sequence of strings" in (
        message
    )


def test_env_name_with_an_equals_sign():
    assert "invalid env name 'A=B'" in _refused(lambda: _profile(env={"A=B": "x"}))


def test_node_selector_key_with_a_space():
    assert "invalid node_selector key 'gpu type'" in _refused(
        lambda: _profile(node_selector={"gpu type": "a100"})
    )


def test_init_container_without_security_context_gets_the_restricted_one(tmp_path):
    seed = {"name": "seed", "image": "busybox:1.36", "command": ["true"]}
    hub = _profile(extra_overrides={"init_containers": [seed]})
    objects = synth(hub.node.scope)
    pod, _ = render_user_pod(objects, UserChoice("s"))
    (init,) = pod["spec"]["initContainers"]
    assert init["name"] == "seed"
    assert restricted_violations(init["securityContext"]) == []
    assert init["securityContext"]["runAsNonRoot"] is True


def test_tls_secret_name_that_is_not_a_secret_name():
    assert "invalid IngressOptions.tls_secret_name 'Jupyter_TLS'" in _refused(
        lambda: make_hub(ingress=IngressOptions(tls_secret_name="Jupyter_TLS"))
    )


def test_the_same_profile_slug_twice():
    _, hub = make_hub(with_profile=False)
    hub.add_profile("small", display_name="Small", default=True)
    message = _refused(lambda: hub.add_profile("small", display_name="Small"))
    assert "There is already a Construct" not in message
    assert "invalid profile slug 'small'" in message


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: make_hub(start_timeout="300"), "invalid start_timeout '300'"),
        (
            lambda: make_hub(idle_culler=IdleCuller(timeout="3600")),
            "invalid IdleCuller.timeout '3600'",
        ),
    ],
    ids=["start_timeout", "idle_culler_timeout"],
)
def test_numbers_given_as_strings(build, expected):
    assert expected in _refused(build)


def test_client_secret_given_as_the_secret_itself():
    message = _refused(lambda: make_hub(auth=oidc_auth(client_secret="the-actual-secret")))
    assert "the-actual-secret" not in message
    assert "has no attribute" not in message


def test_every_example_renders_once_fixed():
    _, hub = make_hub(
        domain=DOMAIN,
        start_timeout=300,
        idle_culler=IdleCuller(timeout=3600),
        ingress=IngressOptions(tls_secret_name="jupyter-tls"),
        auth=oidc_auth(client_secret=SecretRef("oidc", "client-secret")),
        with_profile=False,
    )
    hub.add_profile(
        "s",
        display_name="S",
        default=True,
        gpu=Gpu(count=1, resource_name="nvidia.com/gpu"),
        post_start_command=["echo", "hi"],
        env={"A_B": "x"},
        node_selector={"gpu-type": "a100"},
    )
    assert synth(hub.node.scope)
