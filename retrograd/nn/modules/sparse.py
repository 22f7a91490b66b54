"""``Embedding``: a lookup table of ``num_embeddings`` learnable vectors of size
``embedding_dim``, indexed by integer tensors (token ids, categories)."""
from ...ops.creation import empty
from ...ops.embedding import embedding
from ...autograd.grad_mode import no_grad
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """(*) integer indices -> (*, embedding_dim) rows of ``weight`` (num_embeddings,
    embedding_dim), initialised N(0, 1). The ``padding_idx`` row starts at zero and gets no
    gradient; ``max_norm`` renormalises looked-up rows in place; ``scale_grad_by_freq`` divides
    each row's gradient by its index's count in the batch. ``_weight`` supplies the weight."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"({num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype,
                                          device=device), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: shape of weight {tuple(_weight.shape)} does not "
                                 f"match num_embeddings and embedding_dim ({num_embeddings}, "
                                 f"{embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        settings = [f"{self.num_embeddings}, {self.embedding_dim}"]
        if self.padding_idx is not None:
            settings.append(f"padding_idx={self.padding_idx}")
        if self.max_norm is not None:
            settings.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2:
            settings.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            settings.append("scale_grad_by_freq=True")
        if self.sparse:
            settings.append("sparse=True")
        return ", ".join(settings)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An ``Embedding`` whose weight is (shares the array of) the 2-D ``embeddings``;
        ``freeze=True`` keeps it from being trained."""
        if embeddings.dim() != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings parameter is expected to "
                             f"be 2-dimensional, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings,
                   _freeze=freeze)
