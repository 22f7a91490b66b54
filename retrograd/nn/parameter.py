"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights.

A parameter is an ordinary leaf tensor (it shares the array it was made from) that requires a
gradient by default; assigning one to a module attribute makes the module list it in
``parameters()`` and ``state_dict()``. Results of operations on parameters are plain tensors.
"""
import numpy as np

from .. import _dtype
from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True)``; ``data`` is a tensor (or NumPy array) whose
    array the parameter shares, an empty float tensor when omitted."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.zeros((0,), dtype=_dtype.get_default_dtype())
        elif isinstance(data, Tensor):
            array = data.array
        elif isinstance(data, np.ndarray):
            array = data
        else:
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__}")
        self._init(array, None, 0)
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__
