"""Keeps freed memory in the process for the next training step (glibc only).

A training step allocates the same large arrays (activations, gradients) every time, and frees
them all at its end. glibc's default is to hand large freed blocks back to the kernel, which
then gives the next step fresh pages, each costing a page fault and a zero-fill on first
write: on a LeNet-5 step that was a fifth of the time (ReLU's output alone took four times
as long to write as when its memory was reused; docs/performance.md). With the two settings
below, arrays up to 32 MiB come from the heap, and the heap keeps up to 1 GiB of freed memory
instead of trimming it, the way PyTorch's caching allocator does on a GPU. The price: the
process's resident size stays at its peak.

Nothing is changed with ``RETROGRAD_KEEP_FREED_MEMORY=0`` in the environment, where the user
has set glibc's own malloc variables (``MALLOC_*``, ``GLIBC_TUNABLES``), or on other C
libraries.
"""
import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
MMAP_THRESHOLD = 32 * 2 ** 20   # glibc's largest allowed value
TRIM_THRESHOLD = 2 ** 30


def _user_configured():
    return (os.environ.get("RETROGRAD_KEEP_FREED_MEMORY") == "0"
            or any(name.startswith("MALLOC_") for name in os.environ)
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""))


def keep_freed_memory():
    """Applies the settings above; returns whether they were applied."""
    if not sys.platform.startswith("linux") or _user_configured():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
