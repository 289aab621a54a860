"""Reading a service's binding from the environment, and the errors it raises."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence

from ._contract import SERVICE_ENV


class BindingMissingError(RuntimeError):
    """A platform service is not bound to this notebook server (variables unset)."""

    def __init__(self, service: str, missing: Sequence[str]) -> None:
        self.service = service
        self.missing = tuple(missing)
        factory = SERVICE_ENV[service].factory
        super().__init__(
            f"Platform service '{service}' is not bound to this notebook server: "
            f"environment variable(s) {', '.join(self.missing)} not set. "
            f"Add {factory}(...) to the profile (profile.add_binding(...)) "
            "or the hub (hub.add_binding(...)), then restart your server."
        )


class BindingValueError(ValueError):
    """A binding variable is set to a value the helper cannot use."""

    def __init__(self, service: str, name: str, value: str, allowed: str) -> None:
        self.service = service
        self.name = name
        shown = "<secret>" if name in SERVICE_ENV[service].secret else repr(value)
        super().__init__(
            f"Platform service '{service}': {name}={shown} is not valid; expected {allowed}. "
            f"Fix the value given to {SERVICE_ENV[service].factory}(...)."
        )


class ServiceUnreachableError(ConnectionError):
    """The bound service does not accept connections at its address."""

    def __init__(self, service: str, host: str, port: int, reason: str) -> None:
        self.service = service
        self.host = host
        self.port = port
        super().__init__(
            f"Platform service '{service}' is bound but unreachable at {host}:{port} "
            f"({reason}). Check that the service runs and that the binding's "
            "NetworkPolicy allows egress to it."
        )


def read(service: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the service's set variables; raise `BindingMissingError` if a required one
    is unset or empty. Default environ: ``os.environ``."""
    env = os.environ if environ is None else environ
    spec = SERVICE_ENV[service]
    missing = [name for name in spec.required if not env.get(name)]
    if missing:
        raise BindingMissingError(service, missing)
    return {name: env[name] for name in spec.names if env.get(name)}


def port(service: str, values: Mapping[str, str], name: str) -> int:
    """The integer port in ``values[name]``; `BindingValueError` if not 1-65535."""
    raw = values[name]
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise BindingValueError(service, name, raw, "a port number 1-65535")
    return int(raw)


def choice(service: str, values: Mapping[str, str], name: str, allowed: Sequence[str]) -> str:
    """``values[name]`` if it is one of ``allowed``, else `BindingValueError`."""
    raw = values[name]
    if raw not in allowed:
        raise BindingValueError(service, name, raw, "one of " + ", ".join(allowed))
    return raw


def is_bound(service: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when every required variable of ``service`` is set."""
    env = os.environ if environ is None else environ
    return all(env.get(name) for name in SERVICE_ENV[service].required)


def bound_services(environ: Mapping[str, str] | None = None) -> list[str]:
    """Keys of the services bound to this server, in contract order."""
    return [service for service in SERVICE_ENV if is_bound(service, environ)]


def check_reachable(service: str, host: str, port_: int, timeout: float) -> None:
    """Open and close one TCP connection; `ServiceUnreachableError` if that fails."""
    try:
        with socket.create_connection((host, port_), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ServiceUnreachableError(service, host, port_, reason) from exc
