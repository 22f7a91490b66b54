"""All operations, as functions (``retrograd.exp(x)``) and behind ``Tensor`` methods."""
from ._util import as_tensor_like, promote_types, result_type, shape_arg  # noqa: F401
from .conversion import (broadcast_to, clone, expand, sum_to_size, to, to_dtype)  # noqa: F401
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy,  # noqa
                       full, full_like, is_tensor, linspace, multinomial, normal, numel, ones,
                       ones_like, rand, rand_like, randint, randint_like, randn, randn_like,
                       randperm, tensor, zeros, zeros_like)
from .elementwise import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403
from .rnn import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell  # noqa: F401,E402
