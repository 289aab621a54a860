"""Run a pod's containers as local processes, each seeing the filesystem its container sees.

Programs written to run *in* a pod — prometheus-operator, Prometheus, its config
reloader — read fixed paths: the ServiceAccount token and CA at
``/var/run/secrets/kubernetes.io/serviceaccount`` (client-go's in-cluster config), their
Secrets and ConfigMaps where the pod's ``volumeMounts`` put them, and the paths inside
their generated configuration (``/etc/prometheus/rules/...``). Rewriting those paths
would be rewriting the program's input, so instead each pod gets a root directory laid
out like its containers' filesystem, and its processes run ``chroot``-ed into it:

- the image's binaries at their paths (``/bin/prometheus``: the binaries built by
  ``scripts/build_real_consumers.py``, which are static);
- every volume at its ``mountPath`` (``subPath`` too), resolved through the API server
  as a kubelet does: Secrets, ConfigMaps, projected sources, emptyDirs;
- the ServiceAccount token (a real TokenRequest token of the pod's ServiceAccount), the
  cluster CA and the namespace, when the pod mounts them automatically;
- the environment of the container (``env``/``envFrom`` through the API, ``fieldRef``s)
  plus ``KUBERNETES_SERVICE_HOST``/``PORT`` pointing at the test API server.

The pod gets a loopback address of its own as its IP; listening on "all interfaces"
(``:9090``, ``0.0.0.0:9090``, or a program's default) means that address, as it does in a
pod's network namespace. The process runs as the pod's ``runAsUser``.

Not done: volume updates after the start (a kubelet refreshes Secret volumes; a test
that changes one starts a new pod), resource limits, probes, ``/proc`` and ``/sys``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.control_plane import LOOPBACK, Component
from tests.support.kube.kubelet import CannotRun, container_env

Obj = dict[str, Any]
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class ImageStandIn:
    """What a pod needs from an image it cannot pull.

    Attributes:
        entrypoint: The image's ``ENTRYPOINT`` (used when the container has no ``command``).
        binaries: Path inside the container -> local static binary put there.
        user: The image's ``USER`` (uid), used when the pod sets no ``runAsUser``.
        directories: Directories the image has (e.g. ``/prometheus``), created empty.
        listen_flags: Flag -> port the program listens on when the flag is absent (its
            default is "all interfaces"); added as ``flag=<pod IP>:port``.
    """

    entrypoint: tuple[str, ...]
    binaries: dict[str, Path]
    user: int = 65534
    directories: tuple[str, ...] = ()
    listen_flags: dict[str, int] = field(default_factory=dict)


def pod_address() -> str:
    """A loopback address for one pod (a range the test kubelet does not use)."""
    return f"127.{random.randint(20, 99)}.{random.randint(0, 255)}.{random.randint(2, 254)}"


_ALL_INTERFACES = re.compile(r"^(?P<flag>--[\w.-]+=)(?:0\.0\.0\.0)?:(?P<port>\d+)$")


def _chroot() -> str:
    found = shutil.which("chroot") or shutil.which("chroot", path="/usr/sbin:/sbin")
    if found is None:  # pragma: no cover - coreutils ships it
        raise RuntimeError("chroot (coreutils) is not installed")
    return found


class PodRoot:
    """One pod (``metadata`` + ``spec``) laid out under ``workdir/root``; ``start()`` runs a
    container chroot-ed into it, ``run()`` one to completion (init containers)."""

    def __init__(
        self,
        admin: KubeClient,
        namespace: str,
        pod: Obj,
        workdir: Path,
        images: dict[str, ImageStandIn],
        node_name: str = "test-node",
    ) -> None:
        self.admin = admin
        self.namespace = namespace
        self.pod = pod
        self.name = str(pod["metadata"]["name"])
        self.spec: Obj = pod["spec"]
        self.workdir = workdir
        self.root = workdir / "root"
        self.images = images
        self.node_name = node_name
        self.ip = pod_address()
        self.components: list[Component] = []
        self._service_env = {
            "KUBERNETES_SERVICE_HOST": LOOPBACK,
            "KUBERNETES_SERVICE_PORT": admin.server.rsplit(":", 1)[1],
        }
        self._layout()

    # ------------------------------------------------------------------ filesystem

    def path(self, inside: str) -> Path:
        """The local path of ``inside`` (a path as the container sees it)."""
        return self.root / inside.lstrip("/")

    def _layout(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        for directory in ("tmp", ".volumes"):
            self.path(directory).mkdir(parents=True)
        self.path("tmp").chmod(0o1777)
        self.root.chmod(0o755)
        self.workdir.chmod(0o755)  # its parents must let the pod's user through (mkdtemp)
        for volume in self.spec.get("volumes") or []:
            self._volume(volume)
        if self._automount():
            self._service_account_files()
        for container in self._containers():
            mounts = list(container.get("volumeMounts") or [])
            if self._automount():
                mounts.append({"name": "kube-api-access", "mountPath": SA_DIR})
            for mount in mounts:
                source = self.path(f".volumes/{mount['name']}")
                if mount.get("subPath"):
                    source = source / mount["subPath"]
                link = self.path(mount["mountPath"])
                if link.is_symlink() or link.exists():
                    continue  # another container mounts the same volume there
                link.parent.mkdir(parents=True, exist_ok=True)
                # Relative: it resolves the same inside the chroot and from the test.
                link.symlink_to(os.path.relpath(source, link.parent))
        # The image's own files, where no volume is mounted.
        images = [self._image(c) for c in self._containers()]
        for image in images:
            for inside, binary in image.binaries.items():
                target = self.path(inside)
                if target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(binary, target)
                except OSError:
                    shutil.copy2(binary, target)
            for directory in image.directories:
                self.path(directory).mkdir(parents=True, exist_ok=True)
                self.path(directory).chmod(0o777)

    def _containers(self) -> list[Obj]:
        return [*(self.spec.get("initContainers") or []), *self.spec["containers"]]

    def _image(self, container: Obj) -> ImageStandIn:
        for prefix in sorted(self.images, key=len, reverse=True):
            if container["image"].startswith(prefix):
                return self.images[prefix]
        raise CannotRun(
            "ErrImagePull", f"no stand-in for image {container['image']}", permanent=True
        )

    def _automount(self) -> bool:
        return bool(self.spec.get("automountServiceAccountToken", True))

    def _volume(self, volume: Obj) -> Path:
        directory = self.path(f".volumes/{volume['name']}")
        directory.mkdir(parents=True)
        files: dict[str, bytes] = {}
        mode = 0o644
        if "emptyDir" in volume:
            directory.chmod(0o777)
            return directory
        if "secret" in volume or "configMap" in volume:
            source = volume.get("secret") or volume["configMap"]
            mode = source.get("defaultMode", 0o644)
            files = self._source("secret" if "secret" in volume else "configMap", source)
        elif "projected" in volume:
            mode = volume["projected"].get("defaultMode", 0o644)
            for source in volume["projected"]["sources"]:
                for kind in ("secret", "configMap"):
                    if kind in source:
                        files.update(self._source(kind, source[kind]))
                if "serviceAccountToken" in source:
                    token = self.admin.token_for(self.namespace, self._service_account())
                    files[source["serviceAccountToken"]["path"]] = token.encode()
        else:
            raise CannotRun(
                "ContainerCreating", f"volume {volume['name']}: not supported", permanent=True
            )
        for name, content in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(mode | 0o444)  # readable by the pod's user (fsGroup is not applied)
        return directory

    def _source(self, kind: str, source: Obj) -> dict[str, bytes]:
        name = source.get("name") or source.get("secretName")
        plural = "secrets" if kind == "secret" else "configmaps"
        try:
            obj = self.admin.get(f"/api/v1/namespaces/{self.namespace}/{plural}/{name}")
        except ApiError as error:
            if error.status == 404 and source.get("optional"):
                return {}
            raise CannotRun(
                "ContainerCreating", f'MountVolume.SetUp failed: {kind} "{name}" not found'
            ) from error
        data = {
            k: base64.b64decode(v) if kind == "secret" else v.encode()
            for k, v in (obj.get("data") or {}).items()
        }
        if source.get("items"):
            return {i["path"]: data[i["key"]] for i in source["items"] if i["key"] in data}
        return data

    def _service_account(self) -> str:
        return str(self.spec.get("serviceAccountName") or "default")

    def _service_account_files(self) -> Path:
        directory = self.path(".volumes/kube-api-access")
        directory.mkdir(parents=True)
        files = {
            "token": self.admin.token_for(self.namespace, self._service_account()),
            "ca.crt": Path(self.admin.ca_file).read_text(),
            "namespace": self.namespace,
        }
        for name, text in files.items():
            (directory / name).write_text(text)
            (directory / name).chmod(0o644)
        return directory

    # ------------------------------------------------------------------ processes

    def container(self, name: str) -> Obj:
        return next(c for c in self._containers() if c["name"] == name)

    def command(
        self, name: str, extra_args: tuple[str, ...] = ()
    ) -> tuple[list[str], dict[str, str]]:
        """The chroot command line and environment of container ``name``."""
        container = self.container(name)
        image = self._image(container)
        argv = list(container.get("command") or image.entrypoint)
        args = [*(container.get("args") or []), *extra_args]
        args = [_ALL_INTERFACES.sub(lambda m: f"{m['flag']}{self.ip}:{m['port']}", a) for a in args]
        for flag, port in image.listen_flags.items():
            if not any(a.startswith(f"{flag}=") for a in args):
                args.append(f"{flag}={self.ip}:{port}")
        env = {"PATH": "/bin:/usr/bin", "HOSTNAME": self.name, **self._service_env}
        env.update(container_env(self.admin, self.namespace, container, self._field, base=env))
        security = {
            **(self.spec.get("securityContext") or {}),
            **(container.get("securityContext") or {}),
        }
        user = security.get("runAsUser", image.user)
        group = security.get("runAsGroup", user)
        chroot = [_chroot(), f"--userspec={user}:{group}", str(self.root)]
        return [*chroot, *argv, *args], env

    def _field(self, path: str) -> str:
        meta = self.pod["metadata"]
        fields = {
            "metadata.name": self.name,
            "metadata.namespace": self.namespace,
            "spec.nodeName": self.node_name,
            "spec.serviceAccountName": self._service_account(),
            "status.podIP": self.ip,
            "status.hostIP": LOOPBACK,
        }
        if path in fields:
            return fields[path]
        match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if match:
            return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
        raise CannotRun("CreateContainerConfigError", f"unsupported fieldRef {path}", True)

    def exec(
        self, name: str, argv: list[str], timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """``kubectl exec``: run ``argv`` in container ``name``'s filesystem, as its user."""
        command, env = self.command(name)
        chroot = command[: command.index(str(self.root)) + 1]
        return subprocess.run(
            [*chroot, *argv], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def run(self, name: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run container ``name`` to completion (an init container)."""
        argv, env = self.command(name)
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(
        self,
        name: str,
        ready: Callable[[], bool],
        *,
        extra_args: tuple[str, ...] = (),
        timeout: float = 60,
    ) -> Component:
        """Start container ``name``; ready when ``ready()`` is true (bounded by ``timeout``)."""
        argv, env = self.command(name, extra_args)
        component = _EnvComponent(
            f"{self.name}/{name}", argv, self.workdir / f"{name}.log", ready, env, timeout
        )
        self.components.append(component)
        try:
            component.start()
        except Exception as error:
            raise RuntimeError(
                f"{component.name} did not become ready: {error}\n{self.logs()}"
            ) from error
        return component

    def logs(self, lines: int = 40) -> str:
        parts = []
        for component in self.components:
            text = component.log.read_text(errors="replace").splitlines()[-lines:]
            parts += [f"--- {component.name} ---", *text]
        return "\n".join(parts)

    def stop(self) -> None:
        for component in reversed(self.components):
            component.close()
        self.components.clear()


class _EnvComponent(Component):
    """A ``Component`` with its own environment (nothing of the test process leaks in)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        log: Path,
        ready: Callable[[], bool],
        env: dict[str, str],
        timeout: float,
    ) -> None:
        super().__init__(name, command, log, ready, timeout=timeout)
        self._clean_env = env

    @property
    def _popen_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(super()._popen_kwargs)
        kwargs["env"] = self._clean_env
        return kwargs


@contextlib.contextmanager
def running_pod(pod: PodRoot) -> Iterator[PodRoot]:
    try:
        yield pod
    finally:
        pod.stop()
