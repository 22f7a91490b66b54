"""Parameters as one flat vector and back (e.g. for second-order or evolutionary methods)."""
from ...ops.shape import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Makes each parameter's data the next slice of the 1-D ``vec`` (shared, not copied)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got {type(vec).__name__}")
    start = 0
    for param in parameters:
        count = param.numel()
        if start + count > vec.numel():
            raise RuntimeError(f"vector_to_parameters: vec has {vec.numel()} elements, too few "
                               f"for the parameters (needs at least {start + count})")
        param.data = Tensor._make(vec.array.reshape(-1)[start:start + count]
                                  .reshape(param.shape))
        start += count
