"""Text for neural networks: tokenizers (text -> tokens), ``Vocab`` (tokens <-> ids) and the
batching of sequences of different lengths (ids -> padded tensors and lengths).

    tokenizer = WordTokenizer(lower=True)
    vocab = Vocab.build(tokenizer(text) for text in texts)
    loader = DataLoader([(vocab.encode(tokenizer(t)), y) for t, y in zip(texts, labels)],
                        batch_size=32, shuffle=True, collate_fn=PadCollate(vocab.pad_id))
"""
from .batching import *  # noqa: F401,F403
from .batching import __all__ as _batching_names
from .tokenize import *  # noqa: F401,F403
from .tokenize import __all__ as _tokenize_names
from .vocab import *  # noqa: F401,F403
from .vocab import __all__ as _vocab_names

__all__ = _tokenize_names + _vocab_names + _batching_names
