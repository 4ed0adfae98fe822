"""Platform connectors. Each module defines one `Connector` subclass; the registry finds them by
their `platform` name, so adding a platform is adding one module here (and nothing else)."""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Optional, Type

from connectors.base import Connector


def registry() -> dict[str, Type[Connector]]:
    """Map of platform name -> connector class, discovered from this package's modules."""
    found: dict[str, Type[Connector]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        found.update(_classes(importlib.import_module(f"{__name__}.{info.name}")))
    return found


def connector_class(platform: str) -> Optional[Type[Connector]]:
    """The class for one platform. A module named after its platform (as each one here is) is
    the only one imported: each client library takes a while to load, and a command that
    needs one platform should not wait for all of them."""
    names = {info.name for info in pkgutil.iter_modules(__path__)}
    if platform in names and not platform.startswith("_") and platform != "base":
        found = _classes(importlib.import_module(f"{__name__}.{platform}"))
        if platform in found:
            return found[platform]
    return registry().get(platform)


def _classes(module: ModuleType) -> dict[str, Type[Connector]]:
    return {value.platform: value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Connector) and value is not Connector
            and getattr(value, "platform", None) and value.__module__ == module.__name__}
