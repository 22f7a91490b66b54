"""``Vocab``: the two-way map between tokens and the integer ids an ``Embedding`` looks up.

    vocab = Vocab.build(token_lists, min_freq=2)      # most frequent tokens first
    ids = vocab.encode(["a", "gripping", "film"])     # int64 array; unknown tokens -> <unk>
    vocab.decode(ids)                                 # back to tokens
    vocab.save("vocab.json"); Vocab.load("vocab.json")

The special tokens come first, with fixed ids: ``<pad>`` 0 (the padding of a batch, the
``padding_idx`` of the embedding), ``<unk>`` 1 (any token outside the vocabulary), ``<bos>`` 2
and ``<eos>`` 3 (begin and end of a sequence). Ordinary tokens follow by decreasing frequency;
equally frequent tokens keep the order in which they first appeared, so that the same corpus
always gives the same ids.
"""
import collections
import json
import os

import numpy as np

__all__ = ["Vocab", "PAD", "UNK", "BOS", "EOS", "SPECIALS"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
_FORMAT = "retrograd.text.Vocab"


class Vocab:
    """Tokens <-> ids. ``tokens`` lists the ordinary tokens in id order; they follow the
    ``specials`` (default ``<pad> <unk> <bos> <eos>``). Without ``<unk>`` among the specials,
    encoding an unknown token raises ``KeyError``."""

    def __init__(self, tokens=(), specials=SPECIALS):
        self._tokens = [*specials, *tokens]
        self._ids = {}
        for index, token in enumerate(self._tokens):
            if not isinstance(token, str):
                raise TypeError(f"Vocab: tokens must be str, got {token!r} of type "
                                f"{type(token).__name__} at id {index}")
            if self._ids.setdefault(token, index) != index:
                raise ValueError(f"Vocab: the token {token!r} appears twice, at ids "
                                 f"{self._ids[token]} and {index}")
        self.specials = tuple(specials)

    @classmethod
    def build(cls, token_lists, min_freq=1, max_size=None, specials=SPECIALS):
        """The vocabulary of an iterable of token lists: the tokens seen at least ``min_freq``
        times, most frequent first, at most ``max_size`` of them (specials not counted)."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be an int >= 1, got {min_freq!r}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size < 0):
            raise ValueError(f"Vocab.build: max_size must be None or an int >= 0, got "
                             f"{max_size!r}")
        counts = collections.Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise TypeError("Vocab.build: expected an iterable of token lists, got a str "
                                f"({tokens[:20]!r}...); tokenize the texts first")
            counts.update(tokens)
        for special in specials:
            counts.pop(special, None)
        # most_common sorts stably: equal counts keep their order of first appearance
        frequent = [token for token, count in counts.most_common() if count >= min_freq]
        return cls(frequent[:max_size], specials)

    # ---------------------------------------------------------------------------- lookups
    def __len__(self):
        return len(self._tokens)

    def __contains__(self, token):
        return token in self._ids

    def __iter__(self):
        return iter(self._tokens)

    def __getitem__(self, token):
        """The id of ``token``: ``<unk>``'s id for unknown tokens."""
        index = self._ids.get(token, self._ids.get(UNK))
        if index is None:
            raise self._not_found(token)
        return index

    @staticmethod
    def _not_found(token):
        return KeyError(f"Vocab: the token {token!r} is not in the vocabulary, which has no "
                        f"{UNK} token")

    def lookup_token(self, index):
        """The token of id ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"Vocab: id {index} is out of range for a vocabulary of "
                             f"{len(self)} tokens")
        return self._tokens[index]

    @property
    def tokens(self):
        """All tokens, specials first, in id order (``vocab.tokens[i]`` has id ``i``)."""
        return list(self._tokens)

    def _special_id(self, token):
        index = self._ids.get(token)
        if index is None:
            raise AttributeError(f"Vocab: this vocabulary has no {token} token (its specials "
                                 f"are {list(self.specials)})")
        return index

    @property
    def pad_id(self):
        return self._special_id(PAD)

    @property
    def unk_id(self):
        return self._special_id(UNK)

    @property
    def bos_id(self):
        return self._special_id(BOS)

    @property
    def eos_id(self):
        return self._special_id(EOS)

    # -------------------------------------------------------------------- encode / decode
    def encode(self, tokens, add_bos=False, add_eos=False):
        """The ids of ``tokens`` as an int64 array, optionally between ``<bos>`` and
        ``<eos>``."""
        if isinstance(tokens, str):
            raise TypeError("Vocab.encode: expected a list of tokens, got a str; tokenize it "
                            "first")
        tokens = list(tokens)
        unknown = self._ids.get(UNK)
        ids = [self._ids.get(token, unknown) for token in tokens]
        if unknown is None and None in ids:
            raise self._not_found(tokens[ids.index(None)])
        ids = ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])
        return np.array(ids, dtype=np.int64)

    def decode(self, ids, skip_specials=False):
        """The tokens of ``ids`` (a list, array or integer tensor), without the special tokens
        if ``skip_specials``."""
        array = np.asarray(ids.numpy() if hasattr(ids, "numpy") else ids)
        if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
            raise ValueError(f"Vocab.decode: expected a 1-D sequence of integer ids, got shape "
                             f"{array.shape} of dtype {array.dtype}")
        if array.size and not (0 <= array.min() and array.max() < len(self)):
            bad = array[(array < 0) | (array >= len(self))][0]
            raise IndexError(f"Vocab.decode: id {bad} is out of range for a vocabulary of "
                             f"{len(self)} tokens")
        tokens = [self._tokens[index] for index in array.tolist()]
        if skip_specials:
            specials = set(self.specials)
            tokens = [token for token in tokens if token not in specials]
        return tokens

    # ------------------------------------------------------------------------- save / load
    def to_dict(self):
        """A JSON-ready dict; ``Vocab.from_dict`` rebuilds the vocabulary."""
        return {"format": _FORMAT, "specials": list(self.specials),
                "tokens": self._tokens[len(self.specials):]}

    @classmethod
    def from_dict(cls, content):
        if not isinstance(content, dict) or content.get("format") != _FORMAT:
            raise ValueError(f"Vocab.from_dict: expected a dict written by Vocab.to_dict "
                             f"(format {_FORMAT!r})")
        return cls(content["tokens"], content["specials"])

    def save(self, path):
        """Writes the vocabulary as JSON (UTF-8, every token as it is)."""
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False)
        os.replace(partial, path)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            try:
                content = json.load(f)
            except json.JSONDecodeError as error:
                raise ValueError(f"Vocab.load: {path} is not JSON: {error}") from None
        try:
            return cls.from_dict(content)
        except ValueError as error:
            raise ValueError(f"Vocab.load: {path}: {error}") from None

    def __eq__(self, other):
        return (isinstance(other, Vocab) and self.specials == other.specials
                and self._tokens == other._tokens)

    def __repr__(self):
        return f"Vocab({len(self)} tokens, specials {list(self.specials)})"
