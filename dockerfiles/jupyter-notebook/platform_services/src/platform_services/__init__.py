"""Clients for the platform services bound to this notebook server.

Each submodule reads the environment variables a ``PlatformServiceBinding`` sets and
imports its client library only when called, so ``import platform_services`` is cheap::

    from platform_services import trino
    cursor = trino.connect().cursor()

An unbound service raises `BindingMissingError` naming the variables and the binding to add.
"""

from ._contract import SERVICE_ENV, ServiceEnv
from ._env import (
    BindingMissingError,
    BindingValueError,
    ServiceUnreachableError,
    bound_services,
    is_bound,
)

__all__ = [
    "SERVICE_ENV",
    "BindingMissingError",
    "BindingValueError",
    "ServiceEnv",
    "ServiceUnreachableError",
    "bound_services",
    "is_bound",
]
__version__ = "0.1.0"
