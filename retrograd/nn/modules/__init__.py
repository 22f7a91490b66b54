"""Layers and containers (all importable from ``retrograd.nn``)."""
from . import activation, container, dropout, flatten, linear, loss, module, sparse
from .activation import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403

__all__ = [name for submodule in (module, container, linear, activation, dropout, flatten,
                                  sparse, loss)
           for name in submodule.__all__]
