"""Neural-network building blocks: ``retrograd.nn.functional`` (as ``F``), layers, losses."""
from . import functional  # noqa: F401
