"""Layers and containers (all importable from ``retrograd.nn``)."""
from . import (activation, attention, batchnorm, container, conv, dropout, flatten, linear,
               loss, module, normalization, pooling, rnn, sparse, transformer, upsampling)
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403

__all__ = [name for submodule in (module, container, linear, activation, dropout, flatten,
                                  sparse, loss, conv, pooling, batchnorm, normalization,
                                  upsampling, attention, transformer, rnn)
           for name in submodule.__all__]
