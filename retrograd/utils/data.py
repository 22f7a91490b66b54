"""``retrograd.utils.data``: the same objects as ``retrograd.data``, under PyTorch's path."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
