"""Data loading, with the names of PyTorch's ``torch.utils.data``: datasets, samplers,
``DataLoader`` and ``default_collate``; ``download_url`` fetches a file once, checked by
SHA-256. Also importable as ``retrograd.utils.data``."""
from .dataloader import *  # noqa: F401,F403
from .dataloader import __all__ as _loader_names
from .dataset import *  # noqa: F401,F403
from .dataset import __all__ as _dataset_names
from .download import *  # noqa: F401,F403
from .download import __all__ as _download_names

__all__ = _dataset_names + _loader_names + _download_names
