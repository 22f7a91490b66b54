"""``retrograd.backends``: the switches PyTorch scripts set for cuDNN and friends, and the one
of retrograd's own optional accelerator. There is no cuDNN here, so its switches are plain
attributes that change nothing (NumPy is deterministic)."""
import os
import types

cudnn = types.SimpleNamespace(benchmark=False, deterministic=True, enabled=False,
                              is_available=lambda: False)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)


class _Numba:
    """The optional numba kernels of convolution (``retrograd.ops._kernels``):
    used where numba is installed and ``enabled`` is true; ``RETROGRAD_NUMBA=0`` in the
    environment starts with it false. Without them the same ops run in NumPy."""

    def __init__(self):
        self.enabled = os.environ.get("RETROGRAD_NUMBA", "1") != "0"
        self._module = None
        self._missing = False

    def is_available(self):
        """Whether numba can be imported (importing it, and compiling nothing, on first ask)."""
        return self._load() is not None

    def kernels(self):
        """The kernel module if enabled and available, else None."""
        return self._load() if self.enabled else None

    def _load(self):
        if self._module is None and not self._missing:
            try:
                from .ops import _kernels
            except ImportError:
                self._missing = True
                return None
            self._module = _kernels
            from .threads import _apply_to_numba
            _apply_to_numba()
        return self._module


numba = _Numba()
