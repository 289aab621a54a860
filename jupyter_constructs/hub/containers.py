"""Containers added to user pods: init containers and sidecars (``UserContainer``).

z2jh ``singleuser.initContainers`` / ``singleuser.extraContainers``, KubeSpawner
``init_containers`` / ``extra_containers``. Typed here: each one gets the restricted
security context by default (``core.security.secure_container``, the same function that
secures raw containers given through ``extra_overrides``), explicit resources (so the
namespace quota admits the pod and the synth-time capacity counts them), a pinned image
(checked like profile images) that the pre-puller pulls on the profile's nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.quantities import Resources, Usage
from jupyter_constructs.core.rules import (
    check_bool,
    check_image,
    check_manifest_text,
    is_dns_label,
    is_env_var_name,
)
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.core.security import secure_container
from jupyter_constructs.hub.volumes import check_mount_path, check_relative_path, template_fields

#: Resources of an added container that names none: enough for a copy or a small agent.
DEFAULT_CONTAINER_RESOURCES = Resources("50m", "500m", "64Mi", "256Mi")
#: KubeSpawner's name for the notebook container of a user pod.
NOTEBOOK_CONTAINER = "notebook"
_PULL_POLICIES = ("IfNotPresent", "Always", "Never")


@dataclass(frozen=True)
class Mount:
    """A volume of the user pod mounted into an added container.

    Attributes:
        volume: The volume's name: ``"home"``, ``"shared-data"``, or a ``UserVolume``'s.
        path: Where the container sees it.
        read_only: Mount it read-only. Default: False.
        sub_path: Only this directory of the volume; KubeSpawner expands ``{username}``.
            Default: the whole volume.
    """

    volume: str
    path: str
    read_only: bool = False
    sub_path: str | None = None

    def to_kube(self) -> dict[str, Any]:
        """The ``volumeMounts`` entry (Kubernetes JSON)."""
        mount: dict[str, Any] = {"name": self.volume, "mountPath": self.path}
        if self.sub_path is not None:
            mount["subPath"] = self.sub_path
        if self.read_only:
            mount["readOnly"] = True
        return mount


@dataclass(frozen=True)
class UserContainer:
    """An init container or a sidecar of user pods.

    Example: ``UserContainer("seed", image="quay.io/example/seed:1.2", command=["seed",
    "/home/jovyan/examples"], mounts=[Mount("home", "/home/jovyan")])``.

    Attributes:
        name: The container's name (a DNS label; ``notebook`` is KubeSpawner's).
        image: The image, pinned by tag or digest; the pre-puller pulls it.
        command: The command. Default: the image's entrypoint. KubeSpawner expands
            ``{username}`` in it (write ``{{``/``}}`` for literal braces).
        args: Its arguments. Default: the image's.
        env: Environment variables: text, or ``SecretRef`` for a Secret's key.
        mounts: Volumes of the pod mounted into it. Default: none.
        resources: Requests and limits. Default: 50m/500m CPU, 64Mi/256Mi memory.
        image_pull_policy: ``IfNotPresent``, ``Always`` or ``Never``. Default:
            ``"IfNotPresent"``.
        read_only_root_filesystem: Default: True; pass False for images that write
            outside their mounts.
        run_as_user: Its uid. Default: the user server's (``uid``, 1000).
    """

    name: str
    image: str
    command: Sequence[str] = ()
    args: Sequence[str] = ()
    env: Mapping[str, str | SecretRef] = field(default_factory=dict)
    mounts: Sequence[Mount] = ()
    resources: Resources = DEFAULT_CONTAINER_RESOURCES
    image_pull_policy: str = "IfNotPresent"
    read_only_root_filesystem: bool = True
    run_as_user: int | None = None

    def check(self, where: Where, what: str) -> UserContainer:
        """Return self if every field is valid.

        Args:
            where: The construct an error names.
            what: The parameter, e.g. ``"init_containers[0]"``.

        Raises:
            ConfigurationError: A field is invalid.
        """
        if not is_dns_label(self.name):
            raise invalid(
                where,
                f"{what} name",
                self.name,
                allowed="a DNS-1123 label: 1-63 lowercase letters, digits and '-'",
                fix="name the container like 'seed'",
            )
        if self.name == NOTEBOOK_CONTAINER:
            raise invalid(
                where,
                f"{what} name",
                self.name,
                allowed=f"a name other than {NOTEBOOK_CONTAINER!r} (KubeSpawner's container)",
                fix="give the container its own name",
            )
        what = f"{what} {self.name!r}"
        if isinstance(where, Construct):
            check_image(where, f"{what} image", self.image)
        for key in ("command", "args"):
            value = getattr(self, key)
            if isinstance(value, str) or not all(
                isinstance(a, str) and "\0" not in a for a in value
            ):
                raise invalid(
                    where,
                    f"{what} {key}",
                    value,
                    allowed="a sequence of strings without NUL characters, one per argument",
                    fix='e.g. command=["sh", "-c", "cp -rn /seed/. /home/jovyan/"]',
                )
            for index, argument in enumerate(value):
                check_manifest_text(
                    where, f"{what} {key}[{index}]", argument, fix="write the argument as text"
                )
                template_fields(where, f"{what} {key}", argument)
        if not isinstance(self.env, Mapping):
            raise invalid(
                where, f"{what} env", self.env, allowed="a mapping", fix='e.g. env={"MODE": "seed"}'
            )
        if isinstance(self.mounts, str | Mapping):
            raise invalid(
                where,
                f"{what} mounts",
                self.mounts,
                allowed="a list of Mount(volume, path)",
                fix='e.g. mounts=[Mount("home", "/home/jovyan")]',
            )
        for name, value in self.env.items():
            if not is_env_var_name(name):
                raise invalid(
                    where,
                    f"{what} env name",
                    name,
                    allowed="letters, digits, '_', '-' and '.', not starting with a digit",
                    fix="name the variable like 'MODE'",
                )
            if isinstance(value, str) and "\0" in value:
                raise invalid(
                    where,
                    f"{what} env {name}",
                    value,
                    allowed="text without NUL characters",
                    fix="drop the NUL character",
                )
            if isinstance(value, str):
                check_manifest_text(
                    where, f"{what} env {name}", value, fix="write the value as text"
                )
                template_fields(where, f"{what} env {name}", value)
            elif not isinstance(value, SecretRef):
                raise invalid(
                    where,
                    f"{what} env {name}",
                    type(value).__name__,
                    allowed="a string or a SecretRef",
                    fix='pass SecretRef("secret", "key") for credentials',
                )
        for index, mount in enumerate(self.mounts):
            if not isinstance(mount, Mount):
                raise invalid(
                    where,
                    f"{what} mounts[{index}]",
                    mount,
                    allowed="a Mount(volume, path)",
                    fix='e.g. Mount("home", "/home/jovyan")',
                )
            check_mount_path(where, f"{what} mounts[{index}] path", mount.path)
            check_bool(where, f"{what} mounts[{index}] read_only", mount.read_only)
            if not is_dns_label(mount.volume):
                raise invalid(
                    where,
                    f"{what} mounts[{index}] volume",
                    mount.volume,
                    allowed="the name of a volume of the pod (a DNS-1123 label): 'home', "
                    "'shared-data' or a UserVolume's name",
                    fix='e.g. Mount("home", "/home/jovyan")',
                )
            if mount.sub_path is not None:
                check_relative_path(
                    where, f"{what} mounts[{index}] sub_path", mount.sub_path, template=True
                )
        check_bool(where, f"{what} read_only_root_filesystem", self.read_only_root_filesystem)
        if self.image_pull_policy not in _PULL_POLICIES:
            raise invalid(
                where,
                f"{what} image_pull_policy",
                self.image_pull_policy,
                allowed=", ".join(_PULL_POLICIES),
                fix="usually 'IfNotPresent'",
            )
        if not isinstance(self.resources, Resources):
            raise invalid(
                where,
                f"{what} resources",
                self.resources,
                allowed="a Resources(cpu_request, cpu_limit, memory_request, memory_limit)",
                fix='e.g. Resources("50m", "500m", "64Mi", "256Mi")',
            )
        if isinstance(where, Construct):
            self.resources.checked(where, f"{what} resources")
        if self.run_as_user is not None and (
            isinstance(self.run_as_user, bool)
            or not isinstance(self.run_as_user, int)
            or self.run_as_user < 1
        ):
            raise invalid(
                where,
                f"{what} run_as_user",
                self.run_as_user,
                allowed="a uid of 1 or more (the restricted standard refuses root)",
                fix="leave it out to run as the user server's uid",
            )
        return self

    def usage(self) -> Usage:
        """Its requests and limits, in comparable units."""
        return self.resources.usage()

    def to_kube(self, where: Where, what: str, *, uid: int, gid: int | None) -> dict[str, Any]:
        """The container (Kubernetes JSON), secured by ``core.security.secure_container``.

        Args:
            where: The construct an error names.
            what: The parameter.
            uid: The user server's uid (``runAsUser`` unless ``run_as_user``).
            gid: The user server's gid (``runAsGroup``), if any.
        """
        container: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "imagePullPolicy": self.image_pull_policy,
            "resources": self.resources.to_kube(),
        }
        if self.command:
            container["command"] = list(self.command)
        if self.args:
            container["args"] = list(self.args)
        if self.env:
            container["env"] = [
                {"name": name, "valueFrom": value.env_value_from()}
                if isinstance(value, SecretRef)
                else {"name": name, "value": value}
                for name, value in self.env.items()
            ]
        if self.mounts:
            container["volumeMounts"] = [m.to_kube() for m in self.mounts]
        container["securityContext"] = {"readOnlyRootFilesystem": self.read_only_root_filesystem}
        if self.run_as_user is not None:
            container["securityContext"]["runAsUser"] = self.run_as_user
        return secure_container(where, what, container, uid=uid, gid=gid)


__all__ = ["DEFAULT_CONTAINER_RESOURCES", "NOTEBOOK_CONTAINER", "Mount", "UserContainer"]
