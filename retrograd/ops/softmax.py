"""softmax and log_softmax along a dimension (see the module docs)."""
__all__ = []
