"""Whether operations record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag is thread-local, as in PyTorch, so a data-loading thread never changes what the
training thread records.
"""
import functools
import threading

class _State(threading.local):
    enabled = True  # the default in every thread


_state = _State()


def is_grad_enabled():
    return _state.enabled


def _set_enabled(enabled):
    _state.enabled = bool(enabled)


class set_grad_enabled:
    """Context manager and decorator that sets gradient recording on or off.

    ``set_grad_enabled(False)`` also takes effect immediately when called as a plain function,
    like PyTorch's.
    """

    def __init__(self, mode=True):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False

    def clone(self):
        return type(self)(self.mode)

    def __call__(self, fn):
        _set_enabled(self.prev)  # the decorator form must not switch the mode at definition time

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper


class _GradModeContext:
    """Base of ``no_grad``/``enable_grad``: a context manager usable as a decorator,
    with or without parentheses (``@no_grad()`` and ``@no_grad``)."""

    mode = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = is_grad_enabled()
            _set_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_enabled(prev)

        return wrapper


class no_grad(_GradModeContext):
    """Operations inside record no graph (inference, parameter updates)."""

    mode = False


class enable_grad(_GradModeContext):
    """Turns recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (retrograd has no separate inference tensors)."""

    def __init__(self, mode=True):
        self.mode = not mode
