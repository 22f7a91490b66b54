"""Data types: NumPy's dtypes under PyTorch's names, and PyTorch's default floating dtype.

A Python ``float`` (and a list of them) becomes the default dtype, float32, as in PyTorch.
"""
import builtins

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)

_default = float32


def name_of(dtype):
    return np.dtype(dtype).name


def get_default_dtype():
    return _default


def set_default_dtype(dtype):
    global _default
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are supported, got {dtype}")
    _default = dtype


def as_dtype(dtype):
    """Accepts retrograd/NumPy dtypes, Python types and names ('float32')."""
    if dtype is None:
        return None
    if dtype is builtins.float:
        return float64  # as in PyTorch: dtype=float means double
    if dtype is builtins.int:
        return int64
    return np.dtype(dtype)
