"""Random numbers: one seeded generator feeds initialisation, dropout and shuffling, so that
``manual_seed(s)`` makes a whole run repeatable bit for bit."""
import numpy as np


class Generator:
    """A seedable source of random numbers (wraps ``numpy.random.Generator``)."""

    def __init__(self, device="cpu"):
        self._seed = 0
        self.rng = np.random.default_rng(0)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        self.manual_seed(np.random.SeedSequence().entropy % (2 ** 63))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed):
    """Seeds the default generator (and returns it, like PyTorch)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None):
    return (generator or default_generator).rng


def uniform_array(shape, low=0.0, high=1.0, generator=None, dtype=np.float32):
    return rng(generator).uniform(low, high, size=shape).astype(dtype, copy=False)


def normal_array(shape, mean=0.0, std=1.0, generator=None, dtype=np.float32):
    return (rng(generator).standard_normal(size=shape) * std + mean).astype(dtype, copy=False)
