"""PyTorch's ``torch.utils`` namespace: ``retrograd.utils.data`` is ``retrograd.data``."""
from . import data  # noqa: F401
