"""The bootstrap script, run as a real process against a local fake of the Secret API.

Kubernetes cannot run here; ``tests/support/fake_kube_api.py`` speaks the calls the script makes
with the API server's semantics (resourceVersion preconditions, 404/409/403 Status answers,
RBAC by verb and name) and records every request, so the script's real HTTP client, its
retry loop and its concurrency control are exercised end to end.

Regression cases replay the adversarial review of issue 16: two concurrent runs wrote two
different values for the same missing key (the PATCH had no resourceVersion); empty or
1-byte values were never repaired; a 404-then-409 answer loop made 1,953 requests in 5.5 s
and ended in RecursionError; the Role needed ``create`` on every Secret of the namespace.
"""

from __future__ import annotations

import base64
import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_constructs.hub.bootstrap import SECRET_KEYS, bootstrap_script
from tests.support.fake_kube_api import BASE, NAMESPACE, TOKEN, FakeSecretApi, serve

NAME = "hub-secrets"
# The Role rendered today: get/patch on the one name, create on any Secret.
TODAY_ROLE = {("get", NAME), ("patch", NAME), ("create", None)}
# The Role once the product renders the empty Secret: no create at all.
RENDERED_ROLE = {("get", NAME), ("patch", NAME)}
MINIMUM = {"cookie-secret": 64, "crypt-key": 44, "proxy-token": 32, "metrics-api-token": 32}


@pytest.fixture
def api() -> Iterator[FakeSecretApi]:
    with serve(FakeSecretApi(allowed=set(TODAY_ROLE))) as fake:
        yield fake


def _command(api: FakeSecretApi, tmp_path: Path, **env: str) -> tuple[list[str], dict[str, str]]:
    script = tmp_path / "secret_bootstrap.py"
    script.write_text(bootstrap_script())
    token = tmp_path / "token"
    token.write_text(env.pop("TOKEN", TOKEN))
    settings = {
        "KUBERNETES_API_URL": api.url,
        "KUBERNETES_TOKEN_FILE": str(token),
        "SECRET_NAME": NAME,
        "SECRET_KEYS": ",".join(SECRET_KEYS),
        "POD_NAMESPACE": NAMESPACE,
        "BOOTSTRAP_BACKOFF_SECONDS": "0.05",
        **env,
    }
    return [sys.executable, str(script)], settings


def run(api: FakeSecretApi, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cmd, settings = _command(api, tmp_path, **env)
    return subprocess.run(cmd, env=settings, capture_output=True, text=True, timeout=120)


def run_ok(api: FakeSecretApi, tmp_path: Path, **env: str) -> str:
    result = run(api, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def values(api: FakeSecretApi, name: str = NAME) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in api.data(name).items()}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def version(api: FakeSecretApi, name: str = NAME) -> str:
    return str(api.secrets[name]["metadata"]["resourceVersion"])


def test_creates_the_secret_with_random_values_when_absent(api, tmp_path):
    out = run_ok(api, tmp_path)
    assert out == (
        f"created Secret {NAMESPACE}/{NAME} with keys {', '.join(SECRET_KEYS)} "
        f"(resourceVersion {version(api)})"
    )
    found = values(api)
    assert sorted(found) == sorted(SECRET_KEYS)
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in found.values())
    assert len(set(found.values())) == len(SECRET_KEYS)


def test_second_run_changes_nothing(api, tmp_path):
    run_ok(api, tmp_path)
    before, calls = values(api), len(api.calls)
    out = run_ok(api, tmp_path)
    assert out == (
        f"Secret {NAMESPACE}/{NAME} already has every key; nothing to do "
        f"(resourceVersion {version(api)})"
    )
    assert values(api) == before
    assert [c.method for c in api.calls[calls:]] == ["GET"]


def test_adds_only_missing_keys_and_keeps_existing_values(api, tmp_path):
    keep = "c0ffee" * 11  # 66 characters: long enough to be kept
    api.put(NAME, {"cookie-secret": b64(keep)})
    out = run_ok(api, tmp_path)
    assert out == (
        "added missing keys crypt-key, proxy-token, metrics-api-token in Secret "
        f"{NAMESPACE}/{NAME} (resourceVersion {version(api)})"
    )
    assert values(api)["cookie-secret"] == keep
    assert sorted(values(api)) == sorted(SECRET_KEYS)


def test_repairs_values_too_short_to_be_secrets_and_keeps_the_rest(api, tmp_path):
    """Issue 16: existing empty or 1-byte values were never repaired."""
    just_long_enough = {key: "k" * length for key, length in MINIMUM.items()}
    api.put(
        NAME,
        {
            "cookie-secret": b64("x"),  # 1 byte
            "crypt-key": "",  # empty
            "proxy-token": b64("p" * 31),  # one byte short
            "metrics-api-token": b64(just_long_enough["metrics-api-token"]),
        },
    )
    out = run_ok(api, tmp_path)
    assert out == (
        "replaced too-short values of cookie-secret, crypt-key, proxy-token in Secret "
        f"{NAMESPACE}/{NAME} (resourceVersion {version(api)})"
    )
    found = values(api)
    assert found["metrics-api-token"] == just_long_enough["metrics-api-token"]
    for key in ("cookie-secret", "crypt-key", "proxy-token"):
        assert len(found[key]) == 64 and int(found[key], 16) >= 0
    # Each minimum is exact: a value of exactly that length is kept.
    api.put(NAME, {key: b64(value) for key, value in just_long_enough.items()})
    assert "nothing to do" in run_ok(api, tmp_path)
    assert values(api) == just_long_enough


def test_fills_a_rendered_empty_secret_with_get_and_patch_only(tmp_path):
    """The product renders the empty Secret; the Role has no create; writes are conditional."""
    with serve(FakeSecretApi(allowed=set(RENDERED_ROLE))) as api:
        api.put(NAME, None)  # as applied from the manifests: no data at all
        rendered_version = version(api)
        out = run_ok(api, tmp_path, CREATE_SECRET="false")
        assert out.startswith(f"added missing keys {', '.join(SECRET_KEYS)} in Secret")
        assert sorted(values(api)) == sorted(SECRET_KEYS)
        assert [c.method for c in api.calls] == ["GET", "PATCH"]
        (patch,) = api.writes()
        assert patch.status == 200
        assert patch.content_type == "application/merge-patch+json"
        assert patch.body["metadata"] == {"resourceVersion": rendered_version}
        assert not [c for c in api.calls if c.status == 403]


def test_refuses_to_create_when_the_secret_should_have_been_rendered(tmp_path):
    with serve(FakeSecretApi(allowed=set(RENDERED_ROLE))) as api:
        result = run(api, tmp_path, CREATE_SECRET="false")
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"secret bootstrap failed: Secret {NAMESPACE}/{NAME} does not exist and "
            "CREATE_SECRET is false: it is rendered with the hub's manifests; sync them "
            "(the Job's Role cannot create it)"
        )
        assert [c.method for c in api.calls] == ["GET"]


def _run_concurrently(api: FakeSecretApi, tmp_path: Path, **env: str) -> list[str]:
    procs = []
    for i in range(2):
        workdir = tmp_path / f"run{i}"
        workdir.mkdir()
        cmd, settings = _command(api, workdir, **env)
        procs.append(
            subprocess.Popen(
                cmd, env=settings, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def _decoded(body: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in body["data"].items()}


def test_two_concurrent_runs_on_a_rendered_secret_agree_on_one_value(tmp_path):
    """Issue 16: two runs wrote two different values for the same missing key."""
    with serve(FakeSecretApi(allowed=set(RENDERED_ROLE))) as api:
        api.put(NAME, None)
        api.hold_gets(2)  # both runs read the same, empty version before either writes
        outputs = _run_concurrently(api, tmp_path, CREATE_SECRET="false")

        accepted = api.writes(200)
        assert len(accepted) == 1, [(c.method, c.status) for c in api.writes()]
        # The other run's write was refused on its stale resourceVersion...
        assert sorted(c.status for c in api.writes()) == [200, 409]
        # ...so the stored values are the winner's, written once.
        assert values(api) == _decoded(accepted[0].body)
        # Both runs end on the same version of the Secret: they agree.
        final = version(api)
        assert sorted(o.rsplit("(", 1)[1] for o in outputs) == [f"resourceVersion {final})"] * 2
        assert sum("nothing to do" in o for o in outputs) == 1


def test_two_concurrent_runs_creating_the_secret_agree_on_one_value(tmp_path):
    with serve(FakeSecretApi(allowed=set(TODAY_ROLE))) as api:
        api.hold_gets(2)  # both see 404, both try to create
        outputs = _run_concurrently(api, tmp_path)
        posts = [c for c in api.calls if c.method == "POST"]
        trace = [(c.method, c.status) for c in api.calls]
        assert sorted(c.status for c in posts) == [201, 409], trace
        (created,) = [c for c in posts if c.status == 201]
        assert values(api) == _decoded(created.body)
        assert not [c for c in api.calls if c.method == "PATCH"]
        final = version(api)
        assert sorted(o.rsplit("(", 1)[1] for o in outputs) == [f"resourceVersion {final})"] * 2


def test_a_404_then_409_loop_gives_up_after_a_bounded_number_of_requests(api, tmp_path):
    """Issue 16: GET 404 then POST 409 forever made 1,953 requests and a RecursionError."""
    api.force("GET", 404)
    api.force("POST", 409)
    result = run(api, tmp_path, BOOTSTRAP_MAX_ATTEMPTS="5", BOOTSTRAP_BACKOFF_SECONDS="0.1")
    assert result.returncode == 1
    assert "RecursionError" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"secret bootstrap failed: gave up on Secret {NAMESPACE}/{NAME} after 5 attempts; "
        f"last: creating Secret {NAMESPACE}/{NAME} failed: HTTP 409 forced 409 for POST"
    )
    assert [c.method for c in api.calls] == ["GET", "POST"] * 5
    # Exponential backoff between attempts: 0.1, 0.2, 0.4, 0.8 s (jitter takes up to 20 %).
    starts = [c.at for c in api.calls if c.method == "GET"]
    pauses = [later - earlier for earlier, later in itertools.pairwise(starts)]
    for pause, nominal in zip(pauses, (0.1, 0.2, 0.4, 0.8), strict=True):
        assert 0.8 * nominal - 0.01 <= pause <= nominal + 1.0, pauses  # + time for POST


def test_the_default_retry_budget_is_bounded(api, tmp_path):
    api.force("GET", 503)
    result = run(api, tmp_path, BOOTSTRAP_BACKOFF_SECONDS="0.01")
    assert result.returncode == 1
    assert len(api.calls) == 8
    assert "after 8 attempts" in result.stderr


def test_transient_errors_are_retried_then_succeed(api, tmp_path):
    api.force("GET", 503)
    cmd, settings = _command(api, tmp_path, BOOTSTRAP_BACKOFF_SECONDS="0.3")
    proc = subprocess.Popen(
        cmd, env=settings, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Let the first read fail, then heal the server.
    deadline = time.monotonic() + 10
    while not api.calls and time.monotonic() < deadline:
        time.sleep(0.02)
    api.forced.clear()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.startswith(f"created Secret {NAMESPACE}/{NAME}")
    assert "reading Secret jupyter/hub-secrets failed: HTTP 503" in err
    assert api.calls[0].status == 503


def test_a_conflicting_write_is_retried_on_the_new_version(api, tmp_path):
    """Someone changes the Secret between our read and our write: read again, decide again."""
    api.put(NAME, {"cookie-secret": b64("c" * 64)})
    stale = version(api)
    original = api._handle

    def change_it_once(method, path, headers, body):
        if method == "PATCH" and api.version == int(stale):
            # Another writer fills crypt-key first (as a concurrent run would).
            api.version += 1
            api.secrets[NAME]["data"]["crypt-key"] = b64("k" * 64)
            api.secrets[NAME]["metadata"]["resourceVersion"] = str(api.version)
        return original(method, path, headers, body)

    api._handle = change_it_once  # type: ignore[method-assign]
    out = run_ok(api, tmp_path)
    assert [(c.method, c.status) for c in api.calls] == [
        ("GET", 200),
        ("PATCH", 409),
        ("GET", 200),
        ("PATCH", 200),
    ]
    # The second write asks only for what was still missing, on the new version.
    assert set(api.calls[3].body["data"]) == {"proxy-token", "metrics-api-token"}
    assert values(api)["crypt-key"] == "k" * 64
    assert out.startswith("added missing keys proxy-token, metrics-api-token")


def test_several_secrets_from_one_run(tmp_path):
    """The metrics token can live in its own Secret: SECRETS names each Secret's keys."""
    role = {("get", NAME), ("patch", NAME), ("get", "hub-metrics"), ("patch", "hub-metrics")}
    with serve(FakeSecretApi(allowed=role)) as api:
        api.put(NAME, None)
        api.put("hub-metrics", None)
        out = run_ok(
            api,
            tmp_path,
            CREATE_SECRET="false",
            SECRETS='{"hub-secrets": ["cookie-secret", "crypt-key", "proxy-token"], '
            '"hub-metrics": ["metrics-api-token"]}',
        )
        assert sorted(values(api)) == ["cookie-secret", "crypt-key", "proxy-token"]
        assert sorted(values(api, "hub-metrics")) == ["metrics-api-token"]
        assert len(out.splitlines()) == 2


def test_fails_at_once_when_the_api_refuses(api, tmp_path):
    result = run(api, tmp_path, TOKEN="wrong-token", SECRET_KEYS="a")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "secret bootstrap failed: reading Secret jupyter/hub-secrets failed: HTTP 401 "
        "Unauthorized (check the Job's ServiceAccount and its Role: get and patch on this Secret)"
    )
    assert len(api.calls) == 1


def test_fails_at_once_when_the_role_forbids_the_write(tmp_path):
    with serve(FakeSecretApi(allowed={("get", NAME)})) as api:
        api.put(NAME, None)
        result = run(api, tmp_path)
        assert result.returncode == 1
        assert "updating Secret jupyter/hub-secrets failed: HTTP 403" in result.stderr
        assert [c.method for c in api.calls] == ["GET", "PATCH"]


def test_no_value_is_ever_printed(api, tmp_path):
    api.put(NAME, {"cookie-secret": b64("x")})
    result = run(api, tmp_path)
    assert result.returncode == 0
    for value in values(api).values():
        assert value not in result.stdout + result.stderr
        assert b64(value) not in result.stdout + result.stderr


def test_the_fake_api_uses_the_paths_the_script_calls(api, tmp_path):
    run_ok(api, tmp_path)
    assert {c.path for c in api.calls} <= {BASE, f"{BASE}/{NAME}"}
