"""retrograd: a readable deep-learning framework whose backpropagation is its own.

``import retrograd as rg`` gives PyTorch's names: ``rg.tensor``, ``rg.zeros``, ``rg.no_grad``,
``rg.nn``, ``rg.optim``, ... See docs/design.md for how the engine works.
"""
import math as _math

import numpy as _np

from . import _malloc

_malloc.keep_freed_memory()  # before the first large array (see retrograd/_malloc.py)
from .tensor import Tensor  # noqa: F401,I100  (first: everything else builds on it)
from . import autograd  # noqa: F401
from ._dtype import (bool, complex64, complex128, double, float, float16, float32,  # noqa: F401
                     float64, get_default_dtype, half, int, int8, int16, int32, int64, long,
                     set_default_dtype, short, uint8)
from .autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                       set_grad_enabled)
from .device import accelerator, cuda, device  # noqa: F401
from .ops import *  # noqa: F401,F403
from .random import (Generator, default_generator, get_rng_state, initial_seed,  # noqa: F401
                     manual_seed, seed, set_rng_state)
from .serialization import load, load_torch_state_dict, save  # noqa: F401
from .threads import get_num_threads, set_num_threads  # noqa: F401
from . import threads as _threads
from . import backends, data, nn, optim, train, utils  # noqa: F401,E402  (the library)

# Constants and type helpers that PyTorch scripts use.
inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e
finfo, iinfo = _np.finfo, _np.iinfo
Size = tuple  # shapes are plain tuples: Size([2, 3]) == (2, 3)

_threads._start()

__version__ = "0.1.0"
