"""Tokenizers: text -> list of token strings.

    CharTokenizer()                          "Fun!"       -> ["F", "u", "n", "!"]
    WhitespaceTokenizer(separator=" ")       "8 1/2 ."    -> ["8", "1/2", "."]
    WordTokenizer(lower=True)                "It's fun!"  -> ["it's", "fun", "!"]
    WordTokenizer(split_contractions=True)   "Don't!"     -> ["Do", "n't", "!"]

``WhitespaceTokenizer(separator=" ")`` is for text whose tokens are already separated by
ASCII spaces, such as the Stanford Sentiment Treebank's, where a token may hold another kind
of space (a no-break space). ``WordTokenizer`` is for raw text; with ``split_contractions`` it
follows the Penn Treebank's conventions, those of the Stanford Sentiment Treebank, and gives
back the treebank's own tokens for over 99% of its sentences written out with spaces.

Every tokenizer is a small callable object whose settings fit in a JSON-ready dict
(``tokenizer.config()``), so that a trained model can be saved with the exact tokenization it
was trained with and ``tokenizer_from_config`` can rebuild it at prediction time.
"""
import re

__all__ = ["CharTokenizer", "WhitespaceTokenizer", "WordTokenizer", "tokenizer_from_config"]

# Typographic quotes become ASCII ones, so that "it’s" and "it's" give the same tokens.
_ASCII_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})

# A word: letters and digits, possibly joined by single inner marks, so that "slow-moving",
# "3.5", "1/2", "U.S" and "don't" stay whole. Before it: abbreviations that keep their dot
# ("U.S.", "J.", "Mr."), and the clitics of the Penn Treebank ("'s", "'re", ...; "n't" is a
# word by the word rule) or of decades ("'70s"). After it: runs of one mark ("...", "--",
# "***"), then any other single mark.
_ABBREVIATION = r"(?:[a-z]\.)+(?!\w)|(?:mrs|mr|ms|dr|jr|sr|st|vs)\.(?!\w)"
_CLITIC = r"'(?:s|re|ve|ll|d|m|em|\d0s)\b"
_WORD = r"\w+(?:[-'./&]\w+)*"
_PUNCTUATION = r"([^\w\s])\1+|[^\w\s]"
_WORDS_AND_MARKS = re.compile(f"(?i:{_ABBREVIATION}|{_CLITIC})|{_WORD}|{_PUNCTUATION}")
_WORDS_AND_MARKS_NO_CLITICS = re.compile(f"(?i:{_ABBREVIATION})|{_WORD}|{_PUNCTUATION}")
# Where the Penn Treebank splits a contraction: do|n't, ca|n't, it|'s, we|'re, I|'m ...
_CONTRACTION = re.compile(r"(?i)(?<=\w)(n't|'s|'re|'ve|'ll|'d|'m)\b")


class _Tokenizer:
    """Shared by the tokenizers: optional lowercasing and the settings as a dict."""

    kind = None

    def __init__(self, lower=False):
        if not isinstance(lower, bool):
            raise TypeError(f"{type(self).__name__}: lower must be True or False, got "
                            f"{lower!r}")
        self.lower = lower

    def __call__(self, text):
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}: expected a str, got "
                            f"{type(text).__name__}")
        return self._split(text.lower() if self.lower else text)

    def _split(self, text):
        raise NotImplementedError

    def config(self):
        """The settings as a JSON-ready dict; ``tokenizer_from_config`` rebuilds the tokenizer."""
        return {"kind": self.kind, **vars(self)}

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __repr__(self):
        settings = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({settings})"


class CharTokenizer(_Tokenizer):
    """One token per character, spaces included."""

    kind = "char"

    def _split(self, text):
        return list(text)


class WhitespaceTokenizer(_Tokenizer):
    """Splits on ``separator`` only (e.g. ``' '`` for text whose tokens are already separated
    by ASCII spaces, where a token may hold another kind of space), or on any run of
    whitespace with ``separator=None``; empty tokens are dropped."""

    kind = "whitespace"

    def __init__(self, lower=False, separator=None):
        super().__init__(lower)
        if separator is not None and (not isinstance(separator, str) or not separator):
            raise ValueError(f"WhitespaceTokenizer: separator must be None or a non-empty "
                             f"str, got {separator!r}")
        self.separator = separator

    def _split(self, text):
        return [token for token in text.split(self.separator) if token]


class WordTokenizer(_Tokenizer):
    """Words and punctuation marks of raw text. A word keeps its inner hyphens, apostrophes,
    dots and slashes ("slow-moving", "3.5", "and/or"), an abbreviation its final dot ("U.S.",
    "J.", "Mr."); every other mark is a token of its own, except runs of one mark ("...",
    "--", "!!!"). Typographic quotes count as ASCII ones. With ``split_contractions``,
    contractions are split the Penn Treebank's way: "don't" -> "do" "n't", "it's" -> "it"
    "'s", "can't" -> "ca" "n't"."""

    kind = "word"

    def __init__(self, lower=False, split_contractions=False):
        super().__init__(lower)
        if not isinstance(split_contractions, bool):
            raise TypeError(f"WordTokenizer: split_contractions must be True or False, got "
                            f"{split_contractions!r}")
        self.split_contractions = split_contractions

    def _split(self, text):
        text = text.translate(_ASCII_QUOTES)
        if self.split_contractions:
            text = _CONTRACTION.sub(r" \1", text)
            return [match.group() for match in _WORDS_AND_MARKS.finditer(text)]
        return [match.group() for match in _WORDS_AND_MARKS_NO_CLITICS.finditer(text)]


_KINDS = {tokenizer.kind: tokenizer for tokenizer in (CharTokenizer, WhitespaceTokenizer,
                                                      WordTokenizer)}


def tokenizer_from_config(config):
    """The tokenizer described by ``config`` (a dict from ``tokenizer.config()``)."""
    settings = dict(config)
    kind = settings.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"tokenizer_from_config: unknown tokenizer kind {kind!r}; expected "
                         f"one of {', '.join(_KINDS)}")
    try:
        return _KINDS[kind](**settings)
    except TypeError as error:
        raise ValueError(f"tokenizer_from_config: bad settings for a {kind} tokenizer: "
                         f"{error}") from None
