"""A test kubelet: runs the pods bound to its Node as local processes on a loopback address.

There is no container runtime on these machines. This stand-in does the kubelet's API
side for real — registers a Node, binds pods when no scheduler runs, reads Secrets and
ConfigMaps through the API server to resolve ``env``/``envFrom`` and volumes, writes
``pods/status`` (Pending, Running/Ready with a pod IP, Succeeded/Failed, restarts), and
finishes graceful deletes — and runs each container's program as a local process:

- the pod gets its own loopback address (``127.x.y.z``) as its pod IP; ``0.0.0.0`` in the
  container's environment and arguments (its "all interfaces" inside a pod's network
  namespace) becomes that address;
- the program is the container's ``command``/``args``, or the image's entrypoint from the
  ``images`` table the test passes (the stand-in cannot pull images); a program that is
  not in ``programs`` cannot run here: the pod stays ``Pending`` (``ContainerCreating``)
  with a message saying so — never reported as running;
- volumes (emptyDir, configMap, secret, projected ServiceAccount tokens, downwardAPI,
  PVCs) are materialised as directories, and mount paths in the command, arguments and
  environment are translated to those directories; a PVC's directory outlives its pods
  (a claim bound to a ``hostPath`` PersistentVolume, as the provisioner stand-ins make
  them, uses that volume's folder: a new volume is new, empty storage);
  a missing ``subPath`` folder is made, as root, when the container mounting it starts;
- a program listed in ``stand_ins`` (one that cannot run here) is replaced by a probe
  responder that answers the container's HTTP/TCP probes and nothing else, after its
  env and volumes were resolved as for any container; each replacement is noted;
- the process runs as the pod's ``runAsUser``/``runAsGroup``/``fsGroup``, with only the
  environment the pod spec gives it (plus ``PATH`` and the ``KUBERNETES_SERVICE_*``
  variables every kubelet sets, pointing at the test API server, and ``POD_IP_ENV``: the
  pod's address, for a program standing in for an image that binds "all interfaces" —
  an empty host, ``:8081`` — which in a pod means the pod's own address);
- missing Secrets/ConfigMaps give the real kubelet's ``CreateContainerConfigError``.

Not done: image pulls, resource limits, liveness probes, cgroups, network isolation.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.kube.client import ApiError, KubeClient

Obj = dict[str, Any]
SA_TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
#: The program that stands in for an image the kubelet cannot run (see ``stand_ins``).
PROBE_RESPONDER = "probe-responder"
#: The pod's address, in the environment of every process the test kubelet starts.
POD_IP_ENV = "TEST_KUBELET_POD_IP"


class CannotRun(Exception):
    """The pod cannot start (yet): ``reason`` and ``message`` go into its status. Unless
    ``permanent``, the kubelet tries again (a missing Secret may be created later)."""

    def __init__(self, reason: str, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.reason, self.message, self.permanent = reason, message, permanent


@dataclass(frozen=True)
class Image:
    """What the stand-in knows of an image it cannot pull: entrypoint and environment."""

    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Container:
    name: str
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    exit_code: int | None = None
    started_at: str = ""
    log: Path | None = None


@dataclass
class _Pod:
    uid: str
    namespace: str
    name: str
    ip: str
    directory: Path
    containers: dict[str, _Container] = field(default_factory=dict)
    phase: str = "Pending"
    thread: threading.Thread | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    spec: Obj = field(default_factory=dict)


class TestKubelet:
    """Runs pods of one Node. Use as a context manager; ``errors`` collects thread failures."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        admin: KubeClient,
        workdir: Path,
        *,
        programs: dict[str, str],
        images: dict[str, Image] | None = None,
        node_name: str = "test-node",
        bind_pods: bool = True,
        provision_volumes: bool = False,
        node_labels: dict[str, str] | None = None,
        capacity: dict[str, str] | None = None,
        in_cluster_env: dict[str, str] | None = None,
        stand_ins: dict[str, str] | None = None,
    ) -> None:
        """
        Args:
            admin: A client with the rights a kubelet (and, with ``bind_pods``, a scheduler) has.
            workdir: Where pod directories and logs go.
            programs: Program name in a container command -> local executable.
            images: Image reference prefix -> its entrypoint and environment.
            bind_pods: Bind unscheduled pods to this node (when no kube-scheduler runs).
            provision_volumes: Create a PersistentVolume for each unbound PVC (a stand-in
                for a storage provisioner, so a real scheduler can place pods with PVCs).
            node_labels: Extra Node labels (e.g. the GPU node selector).
            capacity: Node capacity (default 64 CPU, 256Gi, 110 pods, 8 GPUs).
            in_cluster_env: For a container that mounts the ServiceAccount token volume at
                its standard path: env variable -> file of that volume, set to the
                translated path (for programs that accept these paths from env).
            stand_ins: Program name (a container's command, or its image's entrypoint)
                -> why it cannot run here. Such containers run the ``probe-responder``
                program instead: it answers the container's HTTP/TCP probes on the pod's
                address and does nothing else (for tests of what happens *around* pods,
                e.g. a GitOps rollout). Their env and volumes are still resolved first,
                so a missing Secret still blocks the pod. Each replacement is noted in
                ``notes``.
        """
        self.admin = admin
        self.workdir = workdir
        self.programs = programs
        self.images = images or {}
        self.node_name = node_name
        self.bind_pods = bind_pods
        self.provision_volumes = provision_volumes
        self.node_labels = node_labels or {}
        self.in_cluster_env = in_cluster_env or {}
        self.stand_ins = stand_ins or {}
        self.capacity = capacity or {
            "cpu": "64",
            "memory": "256Gi",
            "pods": "110",
            "nvidia.com/gpu": "8",
            "ephemeral-storage": "500Gi",
        }
        self.pods: dict[str, _Pod] = {}
        self.errors: list[str] = []
        self.notes: list[str] = []  # why pods could not start (also in their status)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ip_prefix = f"127.{random.randint(100, 250)}"
        self._next_ip = 1
        port = admin.server.rsplit(":", 1)[1]
        self._service_env = {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": port,
            "KUBERNETES_SERVICE_PORT_HTTPS": port,
            "KUBERNETES_PORT": f"tcp://127.0.0.1:{port}",
        }

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> TestKubelet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._register_node()
        self._thread = threading.Thread(target=self._loop, name="test-kubelet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        for pod in list(self.pods.values()):
            pod.stopping.set()
            self._kill_pod(pod, grace=2)
        for pod in list(self.pods.values()):
            if pod.thread:
                pod.thread.join(timeout=10)

    def logs(self, lines: int = 30) -> str:
        """The tail of every container log and the kubelet's own errors."""
        parts = [f"kubelet error: {e}" for e in self.errors]
        parts += [f"kubelet: {n}" for n in self.notes[-lines:]]
        for pod in self.pods.values():
            for container in pod.containers.values():
                if container.log and container.log.exists():
                    text = container.log.read_text(errors="replace").splitlines()[-lines:]
                    parts.append(f"--- {pod.namespace}/{pod.name} {container.name} ---")
                    parts += text
        return "\n".join(parts)

    def container_log(self, namespace: str, name: str, container: str) -> str:
        for pod in self.pods.values():
            if pod.namespace == namespace and pod.name == name:
                log = pod.containers[container].log
                return log.read_text(errors="replace") if log and log.exists() else ""
        return ""

    # ------------------------------------------------------------------ node

    def _register_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": {
                    "kubernetes.io/hostname": self.node_name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    **self.node_labels,
                },
            },
        }
        path = f"/api/v1/nodes/{self.node_name}"
        if not self.admin.exists(path):
            self.admin.post("/api/v1/nodes", node)
        # The TaintNodesByCondition admission plugin adds the not-ready taint; the node
        # lifecycle controller removes it once the node reports Ready. We do both here.
        self.admin.patch(path, {"spec": {"taints": None}})
        self.admin.request(
            "PATCH",
            f"{path}/status",
            {
                "status": {
                    "capacity": self.capacity,
                    "allocatable": self.capacity,
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "test kubelet is posting ready status",
                            "lastHeartbeatTime": _now(),
                            "lastTransitionTime": _now(),
                        }
                    ],
                    "addresses": [
                        {"type": "InternalIP", "address": "127.0.0.1"},
                        {"type": "Hostname", "address": self.node_name},
                    ],
                    "nodeInfo": {
                        "kubeletVersion": "v1.34.3",
                        "containerRuntimeVersion": "test://local-processes",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                        "osImage": "test",
                        "kernelVersion": "",
                        "kubeProxyVersion": "",
                        "machineID": "",
                        "systemUUID": "",
                        "bootID": "",
                    },
                }
            },
            content_type="application/merge-patch+json",
        )

    # ------------------------------------------------------------------ main loop

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._sync_once()
            except Exception as error:  # keep running; the test sees it in errors/logs
                self.errors.append(f"{type(error).__name__}: {error}")
            self._stop.wait(0.25)

    def _sync_once(self) -> None:
        if self.provision_volumes:
            self._provision()
        if self.bind_pods:
            unbound = self.admin.get("/api/v1/pods", fieldSelector="spec.nodeName=")
            for pod in unbound["items"]:
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                with contextlib.suppress(ApiError):
                    self._bind(pod)
        mine = self.admin.get("/api/v1/pods", fieldSelector=f"spec.nodeName={self.node_name}")
        seen = set()
        for pod in mine["items"]:
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            if pod["metadata"].get("deletionTimestamp"):
                self._finish_delete(pod)
            elif uid not in self.pods and pod["status"].get("phase") in (None, "Pending"):
                self._admit(pod)
        for uid in set(self.pods) - seen:  # deleted without us (force delete)
            pod_state = self.pods.pop(uid)
            pod_state.stopping.set()
            self._kill_pod(pod_state, grace=2)

    def _bind(self, pod: Obj) -> None:
        meta = pod["metadata"]
        self.admin.post(
            f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/binding",
            {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": meta["name"], "uid": meta["uid"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
            },
        )

    def _provision(self) -> None:
        claims = self.admin.get("/api/v1/persistentvolumeclaims")
        for claim in claims["items"]:
            if claim["spec"].get("volumeName") or claim["status"].get("phase") == "Bound":
                continue
            meta = claim["metadata"]
            name = f"pv-{meta['uid']}"
            if self.admin.exists(f"/api/v1/persistentvolumes/{name}"):
                continue
            directory = self._pvc_dir(meta["namespace"], meta["name"])
            self.admin.post(
                "/api/v1/persistentvolumes",
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": name},
                    "spec": {
                        "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
                        "accessModes": claim["spec"]["accessModes"],
                        "storageClassName": claim["spec"].get("storageClassName") or "",
                        "persistentVolumeReclaimPolicy": "Retain",
                        "claimRef": {
                            "namespace": meta["namespace"],
                            "name": meta["name"],
                            "uid": meta["uid"],
                        },
                        "hostPath": {"path": str(directory)},
                    },
                },
            )

    def _admit(self, pod: Obj) -> None:
        meta = pod["metadata"]
        with self._lock:
            ip = f"{self._ip_prefix}.{self._next_ip // 250}.{self._next_ip % 250 + 1}"
            self._next_ip += 1
        directory = self.workdir / f"{meta['namespace']}_{meta['name']}_{meta['uid'][:8]}"
        state = _Pod(meta["uid"], meta["namespace"], meta["name"], ip, directory, spec=pod["spec"])
        self.pods[meta["uid"]] = state
        state.thread = threading.Thread(
            target=self._run_pod, args=(state, pod), name=f"pod-{meta['name']}", daemon=True
        )
        state.thread.start()

    # ------------------------------------------------------------------ status

    def _status_path(self, state: _Pod) -> str:
        return f"/api/v1/namespaces/{state.namespace}/pods/{state.name}/status"

    def _write_status(self, state: _Pod, status: Obj) -> None:
        try:
            self.admin.request(
                "PATCH",
                self._status_path(state),
                {"metadata": {"uid": state.uid}, "status": status},
                content_type="application/strategic-merge-patch+json",
            )
        except ApiError as error:
            if error.status not in (404, 409):
                raise

    def _container_statuses(self, state: _Pod, ready: dict[str, bool]) -> list[Obj]:
        statuses = []
        for container in state.spec["containers"]:
            name = container["name"]
            c = state.containers.get(name)
            if c is None or c.process is None:
                s: Obj = {"waiting": {"reason": "ContainerCreating"}}
            elif c.exit_code is None:
                s = {"running": {"startedAt": c.started_at}}
            else:
                s = {
                    "terminated": {
                        "exitCode": c.exit_code,
                        "reason": "Completed" if c.exit_code == 0 else "Error",
                        "startedAt": c.started_at,
                        "finishedAt": _now(),
                    }
                }
            statuses.append(
                {
                    "name": name,
                    "image": container["image"],
                    "imageID": "",
                    "containerID": f"test://{state.uid[:8]}-{name}",
                    "ready": ready.get(name, False),
                    "started": bool(c and c.exit_code is None and c.process is not None),
                    "restartCount": c.restarts if c else 0,
                    "state": s,
                }
            )
        return statuses

    def _conditions(self, ready: bool, initialized: bool = True) -> list[Obj]:
        now = _now()

        def cond(kind: str, value: bool) -> Obj:
            return {"type": kind, "status": str(value), "lastTransitionTime": now}

        return [
            cond("PodScheduled", True),
            cond("Initialized", initialized),
            cond("ContainersReady", ready),
            cond("Ready", ready),
        ]

    def _report_waiting(self, state: _Pod, reason: str, message: str) -> None:
        note = f"{state.namespace}/{state.name}: {reason}: {message}"
        if note in self.notes[-20:]:
            return  # already reported (a retry with the same outcome)
        self.notes.append(note)
        statuses = [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": message}},
            }
            for c in state.spec["containers"]
        ]
        self._write_status(
            state,
            {
                "phase": "Pending",
                "hostIP": "127.0.0.1",
                "conditions": self._conditions(False),
                "containerStatuses": statuses,
            },
        )

    # ------------------------------------------------------------------ running a pod

    def _run_pod(self, state: _Pod, pod: Obj) -> None:
        self._write_status(
            state,
            {
                "phase": "Pending",
                "hostIP": "127.0.0.1",
                "startTime": _now(),
                "conditions": self._conditions(False, initialized=False),
            },
        )
        containers = [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]
        while not state.stopping.is_set():
            try:
                for container in containers:
                    self._argv(container)  # every program known before anything starts
                mounts = self._volumes(state, pod)
                for init in pod["spec"].get("initContainers") or []:
                    code = self._run_to_completion(state, pod, init, mounts)
                    if code != 0:
                        raise CannotRun(
                            "Init:Error", f"init container {init['name']} exited {code}"
                        )
                for container in pod["spec"]["containers"]:
                    self._start_container(state, pod, container, mounts)
                self._supervise(state, pod, mounts)
                return
            except CannotRun as error:
                if state.stopping.is_set():
                    return
                self._report_waiting(state, error.reason, error.message)
                if error.permanent:
                    return
                self._kill_pod(state, grace=2)
                state.stopping.wait(2)  # as the kubelet retries a pod's sync
            except Exception as error:
                self.errors.append(
                    f"pod {state.namespace}/{state.name}: {type(error).__name__}: {error}"
                )
                return

    def _supervise(self, state: _Pod, pod: Obj, mounts: dict[str, Path]) -> None:
        policy = pod["spec"].get("restartPolicy", "Always")
        ready: dict[str, bool] = {}
        last_status: str | None = None
        while not state.stopping.is_set():
            for container in pod["spec"]["containers"]:
                c = state.containers[container["name"]]
                assert c.process is not None
                code = c.process.poll()
                if code is not None and c.exit_code is None:
                    c.exit_code = code
                    ready[c.name] = False
                    if policy == "Always" or (policy == "OnFailure" and code != 0):
                        time.sleep(min(10, 2**c.restarts))
                        if state.stopping.is_set():
                            return
                        c.restarts += 1
                        self._start_container(state, pod, container, mounts)
                elif c.exit_code is None:
                    ready[c.name] = self._ready(state, container)
            done = all(c.exit_code is not None for c in state.containers.values())
            if done:
                failed = any(c.exit_code for c in state.containers.values())
                state.phase = "Failed" if failed else "Succeeded"
            else:
                state.phase = "Running"
            all_ready = not done and all(ready.get(c["name"]) for c in pod["spec"]["containers"])
            status = {
                "phase": state.phase,
                "hostIP": "127.0.0.1",
                "podIP": state.ip,
                "podIPs": [{"ip": state.ip}],
                "conditions": self._conditions(all_ready),
                "containerStatuses": self._container_statuses(state, ready),
            }
            fingerprint = json.dumps(
                [
                    status["phase"],
                    all_ready,
                    [(c.restarts, c.exit_code) for c in state.containers.values()],
                ]
            )
            if fingerprint != last_status:
                self._write_status(state, status)
                last_status = fingerprint
            if done:
                return
            state.stopping.wait(0.2)

    def _ready(self, state: _Pod, container: Obj) -> bool:
        probe = container.get("readinessProbe")
        if not probe:
            return True
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        with contextlib.suppress(OSError, ValueError):
            if "httpGet" in probe:
                get = probe["httpGet"]
                port = ports.get(get["port"], get["port"])
                scheme = get.get("scheme", "HTTP").lower()
                url = f"{scheme}://{state.ip}:{port}{get.get('path', '/')}"
                with urllib.request.urlopen(url, timeout=1) as response:
                    return 200 <= int(response.status) < 400
            if "tcpSocket" in probe:
                port = ports.get(probe["tcpSocket"]["port"], probe["tcpSocket"]["port"])
                with socket.create_connection((state.ip, int(port)), timeout=1):
                    return True
        return False

    # ------------------------------------------------------------------ containers

    def _image(self, reference: str) -> Image | None:
        for prefix in sorted(self.images, key=len, reverse=True):
            if reference.startswith(prefix):
                return self.images[prefix]
        return None

    def _stand_in(self, container: Obj) -> str | None:
        """Why ``container``'s program is replaced by the probe responder (None: it is not)."""
        image = self._image(container["image"])
        command = container.get("command") or (image.command if image else ())
        if not command:
            return None
        return self.stand_ins.get(command[0]) or self.stand_ins.get(Path(command[0]).name)

    def _probe_specs(self, container: Obj) -> list[str]:
        """``http:PORT:PATH`` / ``tcp:PORT`` of every probe, for the probe responder."""
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        specs = []
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = container.get(kind)
            if not probe:
                continue
            if "httpGet" in probe:
                get = probe["httpGet"]
                port = ports.get(get["port"], get["port"])
                if not isinstance(port, int):
                    raise CannotRun(
                        "CreateContainerError",
                        f"container {container['name']}: {kind} port {port!r} is not a "
                        "container port",
                        permanent=True,
                    )
                specs.append(f"http:{port}:{get.get('path', '/')}")
            elif "tcpSocket" in probe:
                specs.append(
                    f"tcp:{ports.get(probe['tcpSocket']['port'], probe['tcpSocket']['port'])}"
                )
            else:
                raise CannotRun(
                    "ContainerCreating",
                    f"container {container['name']}: a stand-in cannot answer a {kind} "
                    f"of kind {sorted(set(probe) & {'exec', 'grpc'})}",
                    permanent=True,
                )
        return specs

    def _argv(self, container: Obj) -> tuple[list[str], Image | None]:
        image = self._image(container["image"])
        if self._stand_in(container) is not None:
            responder = self.programs.get(PROBE_RESPONDER)
            if responder is None:
                raise CannotRun(
                    "ContainerCreating",
                    f"container {container['name']}: no {PROBE_RESPONDER} program given",
                    permanent=True,
                )
            return [responder], image
        command = container.get("command")
        args = container.get("args")
        if command:
            argv = list(command) + list(args or [])
        elif image is not None:
            argv = list(image.command) + list(args or [])
        elif args:
            argv = list(args)
        else:
            raise CannotRun(
                "ContainerCreating",
                f"container {container['name']}: image {container['image']} has no entrypoint "
                "known to the test kubelet (it cannot pull images)",
                permanent=True,
            )
        program = self.programs.get(argv[0]) or self.programs.get(Path(argv[0]).name)
        if program is None:
            raise CannotRun(
                "ContainerCreating",
                f"container {container['name']}: the test kubelet cannot run {argv[0]!r} "
                f"(known programs: {', '.join(sorted(self.programs))})",
                permanent=True,
            )
        return [program, *argv[1:]], image

    def _start_container(
        self, state: _Pod, pod: Obj, container: Obj, mounts: dict[str, Path]
    ) -> _Container:
        argv, image = self._argv(container)
        # The kubelet makes a missing subPath folder when the container that mounts it
        # starts (after the init containers ran), as root (kubernetes/kubernetes#95945).
        for mount in container.get("volumeMounts") or []:
            if mount.get("subPath"):
                mounts[mount["mountPath"]].mkdir(parents=True, exist_ok=True)
        env = self._env(state, pod, container, image)
        # Paths in the image's and the pod's env are container paths; the kubelet's own PATH
        # (the programs' local folders, which may sit under a mounted path such as /tmp) is not.
        own_path = os.pathsep.join(self._path())
        env = {
            k: v if (k, v) == ("PATH", own_path) else self._translate(v, mounts, state)
            for k, v in env.items()
        }
        argv = [argv[0]] + [self._translate(a, mounts, state) for a in argv[1:]]
        why = self._stand_in(container)
        if why is not None:
            argv = [argv[0], state.ip, *self._probe_specs(container)]
            note = (
                f"{state.namespace}/{state.name} {container['name']}: {container['image']} "
                f"replaced by a probe responder ({why})"
            )
            if note not in self.notes[-20:]:
                self.notes.append(note)
        mounted = {m["mountPath"] for m in container.get("volumeMounts") or []}
        if SA_TOKEN_DIR in mounted:
            for variable, file_name in self.in_cluster_env.items():
                env.setdefault(variable, str(mounts[SA_TOKEN_DIR] / file_name))
        workdir = container.get("workingDir") or (image.working_dir if image else None)
        cwd = self._translate(workdir, mounts, state) if workdir else str(state.directory)
        if not Path(cwd).is_dir():
            cwd = str(state.directory)
        user, group, groups = self._identity(pod, container)
        c = state.containers.setdefault(container["name"], _Container(container["name"]))
        c.log = state.directory / f"{container['name']}.log"
        c.exit_code = None
        c.started_at = _now()
        with c.log.open("ab") as log:
            c.process = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                group=group,
                extra_groups=groups,
            )
        return c

    def _run_to_completion(
        self, state: _Pod, pod: Obj, container: Obj, mounts: dict[str, Path], timeout: float = 120
    ) -> int:
        c = self._start_container(state, pod, container, mounts)
        assert c.process is not None
        deadline = time.monotonic() + timeout
        while c.process.poll() is None:
            if state.stopping.is_set() or time.monotonic() > deadline:
                self._kill(c.process, 2)
                return -1
            time.sleep(0.1)
        return int(c.process.returncode)

    def _identity(self, pod: Obj, container: Obj) -> tuple[int | None, int | None, list[int]]:
        pod_sc = pod["spec"].get("securityContext") or {}
        sc = container.get("securityContext") or {}
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
        fs_group = pod_sc.get("fsGroup")
        groups = [fs_group] if fs_group is not None else []
        groups += pod_sc.get("supplementalGroups") or []
        if user is None and (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            user = 65534  # the image's user is unknown: the kubelet would refuse root
        if os.geteuid() != 0:  # cannot switch users: run as ourselves
            return None, None, []
        if group is None:
            group = fs_group if fs_group is not None else user
        return user, group, groups

    def _translate(self, value: str, mounts: dict[str, Path], state: _Pod) -> str:
        """Mount paths -> local folders, in one pass: a translated path is never translated
        again (the hub mounts ``/tmp`` and the local folders live under ``/tmp``)."""
        if mounts:
            paths = "|".join(re.escape(m) for m in sorted(mounts, key=len, reverse=True))
            value = re.sub(f"(?:{paths})(?=/|$|[^\\w.-])", lambda m: str(mounts[m.group(0)]), value)
        return value.replace("0.0.0.0", state.ip)

    # ------------------------------------------------------------------ env

    def _get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return _get(self.admin, kind, namespace, name)

    def _field(self, state: _Pod, pod: Obj, path: str) -> str:
        meta = pod["metadata"]
        simple = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": self.node_name,
            "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
            "status.podIP": state.ip,
            "status.hostIP": "127.0.0.1",
        }
        if path in simple:
            return str(simple[path])
        match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if match:
            return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
        raise CannotRun(
            "CreateContainerConfigError", f"unsupported fieldRef {path}", permanent=True
        )

    def _env(self, state: _Pod, pod: Obj, container: Obj, image: Image | None) -> dict[str, str]:
        env: dict[str, str] = {"PATH": os.pathsep.join(self._path()), "HOSTNAME": state.name}
        if image:
            env.update(image.env)
        env.update(self._service_env)
        env[POD_IP_ENV] = state.ip
        env.update(
            container_env(
                self.admin,
                state.namespace,
                container,
                lambda path: self._field(state, pod, path),
                base=env,
            )
        )
        return env

    def _path(self) -> list[str]:
        dirs = {str(Path(p).parent) for p in list(self.programs.values())}  # tests add programs
        return [*sorted(dirs), "/usr/local/bin", "/usr/bin", "/bin"]

    # ------------------------------------------------------------------ volumes

    def _pvc_dir(self, namespace: str, claim: str) -> Path:
        directory = self.workdir / "persistent-volumes" / namespace / claim
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def _claim_dir(self, namespace: str, claim: Obj) -> Path:
        """The folder of the volume a claim is bound to (a ``hostPath`` PersistentVolume,
        as a provisioner makes them), else a folder of the claim's own: a claim bound to a
        new volume sees new, empty storage, as on a real node."""
        volume_name = claim["spec"].get("volumeName")
        if volume_name:
            try:
                volume = self.admin.get(f"/api/v1/persistentvolumes/{volume_name}")
            except ApiError as error:
                if error.status != 404:
                    raise
                volume = {}
            host_path = (volume.get("spec", {}).get("hostPath") or {}).get("path")
            if host_path:
                directory = Path(host_path)
                directory.mkdir(parents=True, exist_ok=True)
                return directory
        return self._pvc_dir(namespace, claim["metadata"]["name"])

    def _write_files(self, directory: Path, files: dict[str, str | bytes], mode: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
            path.chmod(mode)

    def _source_files(
        self, state: _Pod, kind: str, source: Obj, default_mode: int
    ) -> dict[str, str | bytes]:
        name = source.get("name") or source.get("secretName")
        obj = self._get(kind, state.namespace, name)
        if obj is None:
            if source.get("optional"):
                return {}
            singular = "secret" if kind == "secrets" else "configmap"
            raise CannotRun(
                "ContainerCreating", f'MountVolume.SetUp failed: {singular} "{name}" not found'
            )
        data: dict[str, str | bytes] = {}
        for k, v in (obj.get("data") or {}).items():
            data[k] = base64.b64decode(v) if kind == "secrets" else v
        items = source.get("items")
        if items:
            return {i["path"]: data[i["key"]] for i in items if i["key"] in data}
        return data

    def _volumes(self, state: _Pod, pod: Obj) -> dict[str, Path]:
        """Materialise every volume; return mountPath -> local directory for all containers."""
        state.directory.mkdir(parents=True, exist_ok=True)
        pod_sc = pod["spec"].get("securityContext") or {}
        fs_group = pod_sc.get("fsGroup")
        local: dict[str, Path] = {}
        for volume in pod["spec"].get("volumes") or []:
            name = volume["name"]
            directory = state.directory / "volumes" / name
            if "emptyDir" in volume:
                directory.mkdir(parents=True, exist_ok=True)
                directory.chmod(0o777)
            elif "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                claim_obj = self._get("persistentvolumeclaims", state.namespace, claim)
                if claim_obj is None:
                    raise CannotRun(
                        "ContainerCreating", f'persistentvolumeclaim "{claim}" not found'
                    )
                directory = self._claim_dir(state.namespace, claim_obj)
                if fs_group is not None and os.geteuid() == 0:
                    os.chown(directory, -1, fs_group)
                    directory.chmod(0o2775)
            elif "configMap" in volume or "secret" in volume:
                kind = "configmaps" if "configMap" in volume else "secrets"
                source = volume.get("configMap") or volume["secret"]
                mode = source.get("defaultMode", 0o644)
                self._write_files(directory, self._source_files(state, kind, source, mode), mode)
            elif "projected" in volume:
                files: dict[str, str | bytes] = {}
                mode = volume["projected"].get("defaultMode", 0o644)
                for source in volume["projected"]["sources"]:
                    if "serviceAccountToken" in source:
                        token_source = source["serviceAccountToken"]
                        files[token_source["path"]] = self._pod_token(pod, token_source)
                    elif "configMap" in source:
                        files.update(
                            self._source_files(state, "configmaps", source["configMap"], mode)
                        )
                    elif "secret" in source:
                        files.update(self._source_files(state, "secrets", source["secret"], mode))
                    elif "downwardAPI" in source:
                        for item in source["downwardAPI"]["items"]:
                            files[item["path"]] = self._field(
                                state, pod, item["fieldRef"]["fieldPath"]
                            )
                self._write_files(directory, files, mode)
            elif "downwardAPI" in volume:
                files = {
                    item["path"]: self._field(state, pod, item["fieldRef"]["fieldPath"])
                    for item in volume["downwardAPI"]["items"]
                }
                self._write_files(directory, files, 0o644)
            else:
                kinds = sorted(set(volume) - {"name"})
                raise CannotRun(
                    "ContainerCreating",
                    f"volume {name}: {kinds} not supported here",
                    permanent=True,
                )
            if fs_group is not None and os.geteuid() == 0:
                for path in [directory, *directory.rglob("*")]:
                    os.chown(path, -1, fs_group)
            local[name] = directory
        mounts: dict[str, Path] = {}
        for container in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]:
            for mount in container.get("volumeMounts") or []:
                target = local[mount["name"]]
                if mount.get("subPath"):
                    # Made when the container starts (_start_container), as the kubelet does.
                    target = target / mount["subPath"]
                mounts[mount["mountPath"]] = target
        return mounts

    def _pod_token(self, pod: Obj, source: Obj) -> str:
        meta = pod["metadata"]
        body: Obj = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": source.get("expirationSeconds", 3607),
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        if source.get("audience"):
            body["spec"]["audiences"] = [source["audience"]]
        sa = pod["spec"].get("serviceAccountName", "default")
        reply = self.admin.post(
            f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{sa}/token", body
        )
        return str(reply["status"]["token"])

    # ------------------------------------------------------------------ deletes

    def _kill(self, process: subprocess.Popen[bytes], grace: float) -> None:
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def _kill_pod(self, state: _Pod, grace: float) -> None:
        for c in state.containers.values():
            if c.process is not None:
                self._kill(c.process, grace)

    def _finish_delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        state = self.pods.pop(meta["uid"], None)
        if state is not None:
            state.stopping.set()
            grace = min(float(meta.get("deletionGracePeriodSeconds") or 0), 10.0)
            self._kill_pod(state, grace)
            if state.thread:
                state.thread.join(timeout=15)
        with contextlib.suppress(ApiError):
            self.admin.request(
                "DELETE",
                f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                {
                    "apiVersion": "v1",
                    "kind": "DeleteOptions",
                    "gracePeriodSeconds": 0,
                    "preconditions": {"uid": meta["uid"]},
                },
            )


def _get(client: KubeClient, kind: str, namespace: str, name: str) -> Obj | None:
    try:
        return client.get(f"/api/v1/namespaces/{namespace}/{kind}/{name}")  # type: ignore[no-any-return]
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def _data(
    client: KubeClient, kind: str, namespace: str, name: str, optional: bool
) -> dict[str, str] | None:
    obj = _get(client, kind, namespace, name)
    singular = {"secrets": "secret", "configmaps": "configmap"}[kind]
    if obj is None:
        if optional:
            return None
        raise CannotRun("CreateContainerConfigError", f'{singular} "{name}" not found')
    if kind == "secrets":
        return {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
    return dict(obj.get("data") or {})


def container_env(
    client: KubeClient,
    namespace: str,
    container: Obj,
    field: Callable[[str], str],
    base: dict[str, str] | None = None,
) -> dict[str, str]:
    """A container's ``envFrom`` and ``env`` resolved as the kubelet does: Secret and
    ConfigMap references read through the API as ``client``, ``fieldRef`` by ``field``,
    ``$(VAR)`` expanded. A missing Secret/ConfigMap/key (not optional) raises
    ``CannotRun("CreateContainerConfigError", <the kubelet's message>)``."""
    env: dict[str, str] = {}
    known = dict(base or {})
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, ref_key in (("configmaps", "configMapRef"), ("secrets", "secretRef")):
            if ref_key in source:
                ref = source[ref_key]
                data = _data(client, kind, namespace, ref["name"], ref.get("optional", False)) or {}
                env.update({prefix + k: v for k, v in data.items()})
    for item in container.get("env") or []:
        name = item["name"]
        if "valueFrom" not in item:
            env[name] = _expand(item.get("value", ""), {**known, **env})
            continue
        source = item["valueFrom"]
        if "secretKeyRef" in source or "configMapKeyRef" in source:
            kind, ref = (
                ("secrets", source["secretKeyRef"])
                if "secretKeyRef" in source
                else ("configmaps", source["configMapKeyRef"])
            )
            data = _data(client, kind, namespace, ref["name"], ref.get("optional", False))
            if data is None:
                continue
            if ref["key"] not in data:
                if ref.get("optional"):
                    continue
                what = "Secret" if kind == "secrets" else "ConfigMap"
                raise CannotRun(
                    "CreateContainerConfigError",
                    f"couldn't find key {ref['key']} in {what} {namespace}/{ref['name']}",
                )
            env[name] = data[ref["key"]]
        elif "fieldRef" in source:
            env[name] = field(source["fieldRef"]["fieldPath"])
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            kind_, _, resource = ref["resource"].partition(".")
            env[name] = str((container.get("resources") or {}).get(kind_, {}).get(resource, "0"))
        else:
            raise CannotRun("CreateContainerConfigError", f"unsupported valueFrom in {name}")
    return env


def _expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion (``$$`` escapes)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", replace, value)


@contextlib.contextmanager
def running_kubelet(admin: KubeClient, workdir: Path, **options: Any) -> Iterator[TestKubelet]:
    """A started ``TestKubelet``; stopped (every process killed) on exit."""
    kubelet = TestKubelet(admin, workdir, **options)
    kubelet.start()
    try:
        yield kubelet
    finally:
        kubelet.stop()
        shutil.rmtree(workdir, ignore_errors=True)
