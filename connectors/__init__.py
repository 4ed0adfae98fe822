"""Platform connectors. Each module defines one `Connector` subclass; the registry finds them by
their `platform` name, so adding a platform is adding one module here (and nothing else)."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Type

from connectors.base import Connector


def registry() -> dict[str, Type[Connector]]:
    """Map of platform name -> connector class, discovered from this package's modules."""
    found: dict[str, Type[Connector]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Connector) and value is not Connector
                    and getattr(value, "platform", None) and value.__module__ == module.__name__):
                found[value.platform] = value
    return found
