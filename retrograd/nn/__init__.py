"""Neural-network building blocks: ``Module`` and layers, ``Parameter``, ``init``, ``utils``
and ``retrograd.nn.functional`` (as ``F``)."""
from . import functional  # noqa: F401
from . import init  # noqa: F401
from . import utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
