"""reduction operations (see the module docs)."""
__all__ = []
