"""Reverse-mode automatic differentiation: ``Function``, ``backward``, ``grad``, ``gradcheck``."""
from .engine import backward, grad  # noqa: F401
from .function import Function  # noqa: F401
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
