from __future__ import annotations

from typing import Callable

import pytest

from monitor.service import Monitor
from tests.core.support import BACKENDS, MemoryPlatform

SETTINGS = """
[app]
user = "tester"

[[sources]]
name = "mem"
platform = "memory"
"""


@pytest.fixture
def platform() -> MemoryPlatform:
    return MemoryPlatform("mem")


@pytest.fixture
def monitor(make_settings: Callable, platform: MemoryPlatform):
    service = Monitor(make_settings(SETTINGS), environ={}, **BACKENDS)
    service.init()
    service.use_connector("mem", platform)
    yield service
    service.close()
