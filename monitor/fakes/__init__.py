"""Local fakes of the platforms the connectors talk to (X, Graph API, Reddit, Google Business
Profile), for tests and `monitor demo`: the real client libraries run against them."""
from monitor.fakes.server import FakePlatforms
from monitor.fakes.state import FAILURE_KINDS, PLATFORMS, Brand

__all__ = ["FakePlatforms", "Brand", "FAILURE_KINDS", "PLATFORMS"]
