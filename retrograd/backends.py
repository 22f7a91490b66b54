"""``retrograd.backends``: the switches PyTorch scripts set for cuDNN and friends. There is no
cuDNN here, so they are plain attributes that change nothing (NumPy is deterministic)."""
import types

cudnn = types.SimpleNamespace(benchmark=False, deterministic=True, enabled=False,
                              is_available=lambda: False)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
