"""Placeholder replaced by the PlatformServiceBinding module."""

from __future__ import annotations

from typing import Any

from constructs import Construct


class PlatformServiceBinding(Construct):
    def bind(self, target: Any) -> None:
        raise NotImplementedError

    def environment(self) -> dict[str, Any]:
        raise NotImplementedError
