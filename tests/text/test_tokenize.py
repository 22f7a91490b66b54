"""Tokenizers: characters, whitespace (ASCII spaces only for pre-split text), words and
punctuation with the Penn Treebank's contractions, lowercasing, and settings round trips."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrograd.text import (CharTokenizer, WhitespaceTokenizer, WordTokenizer,
                            tokenizer_from_config)

NBSP = "\u00a0"


# ---------------------------------------------------------------------------------- chars
def test_char_tokenizer_keeps_every_character():
    assert CharTokenizer()("Hi, yo!") == ["H", "i", ",", " ", "y", "o", "!"]
    assert CharTokenizer(lower=True)("AbC") == ["a", "b", "c"]
    assert CharTokenizer()("") == []


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=30))
def test_char_tokens_join_back_to_the_text(text):
    assert "".join(CharTokenizer()(text)) == text


# ----------------------------------------------------------------------------- whitespace
def test_whitespace_tokenizer_on_ascii_spaces_keeps_a_no_break_space_inside_a_token():
    tokens = WhitespaceTokenizer(separator=" ")(f"like 8 1{NBSP}\\/2 .")
    assert tokens == ["like", "8", f"1{NBSP}\\/2", "."]


def test_whitespace_tokenizer_on_any_whitespace():
    assert WhitespaceTokenizer()(f"a\tb  c\nd{NBSP}e ") == ["a", "b", "c", "d", "e"]


def test_whitespace_tokenizer_drops_empty_tokens_and_lowercases():
    assert WhitespaceTokenizer(lower=True, separator=" ")("  The  Rock ") == ["the", "rock"]


@pytest.mark.parametrize("separator", ["", 3])
def test_whitespace_tokenizer_refuses_a_bad_separator(separator):
    with pytest.raises(ValueError, match="separator must be None or a non-empty str"):
        WhitespaceTokenizer(separator=separator)


# ---------------------------------------------------------------------------------- words
@pytest.mark.parametrize("text, tokens", [
    ("A gripping, funny film.", ["A", "gripping", ",", "funny", "film", "."]),
    ("slow-moving and/or 3.5 stars", ["slow-moving", "and/or", "3.5", "stars"]),
    ("Wait... what?! -- no", ["Wait", "...", "what", "?", "!", "--", "no"]),
    ("Wow!!! (sort of)", ["Wow", "!!!", "(", "sort", "of", ")"]),
    ('He said "great"', ["He", "said", '"', "great", '"']),
    ("Mr. Smith and E.T. in the U.S.", ["Mr.", "Smith", "and", "E.T.", "in", "the", "U.S."]),
    ("don't", ["don't"]),
    ("", []),
])
def test_word_tokenizer_splits_words_and_punctuation(text, tokens):
    assert WordTokenizer()(text) == tokens


@pytest.mark.parametrize("text, tokens", [
    ("Don't miss it", ["Do", "n't", "miss", "it"]),
    ("can't won't isn't", ["ca", "n't", "wo", "n't", "is", "n't"]),
    ("it's we're I'm they've you'll he'd", ["it", "'s", "we", "'re", "I", "'m", "they", "'ve",
                                            "you", "'ll", "he", "'d"]),
    ("the film's plot", ["the", "film", "'s", "plot"]),
    ("back in the '70s", ["back", "in", "the", "'70s"]),
    ("It\u2019s \u201cgreat\u201d", ["It", "'s", '"', "great", '"']),
])
def test_word_tokenizer_splits_contractions_like_the_penn_treebank(text, tokens):
    assert WordTokenizer(split_contractions=True)(text) == tokens


def test_typographic_quotes_become_ascii_without_contraction_splitting():
    assert WordTokenizer()("It\u2019s fine") == ["It's", "fine"]


def test_word_tokenizer_lowercases():
    assert WordTokenizer(lower=True)("The ROCK!") == ["the", "rock", "!"]


@pytest.mark.parametrize("tokens", [
    ["The", "Rock", "is", "destined", "to", "be", "the", "21st", "Century", "'s", "new", '"',
     "Conan", '"', "and", "that", "he", "'s", "going", "to", "make", "a", "splash", "."],
    ["It", "does", "n't", "work", "--", "at", "all", "...", "but", "it", "'s", "a", "mess", "!"],
    ["-", "a", "(", "very", ")", "slow-moving", ",", "aimless", "movie", "about", "Mr.", "J.",
     "Smith", ":", "the", "writer/director", "of", "'70s", "films", ";", "really", "?"],
])
def test_treebank_tokens_joined_by_spaces_come_back_unchanged(tokens):
    assert WordTokenizer(split_contractions=True)(" ".join(tokens)) == tokens


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_word_tokens_are_never_empty_and_never_hold_whitespace(text):
    tokens = WordTokenizer(split_contractions=True)(text)
    assert all(token and not any(c.isspace() for c in token) for token in tokens)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_lowercasing_ascii_text_lowercases_each_token(text):
    tokens = WordTokenizer(split_contractions=True)(text)
    assert WordTokenizer(lower=True, split_contractions=True)(text) == [t.lower() for t in tokens]


# -------------------------------------------------------------------------------- settings
@pytest.mark.parametrize("tokenizer", [
    CharTokenizer(), CharTokenizer(lower=True), WhitespaceTokenizer(separator=" "),
    WhitespaceTokenizer(lower=True), WordTokenizer(), WordTokenizer(lower=True,
                                                                    split_contractions=True),
])
def test_config_round_trips(tokenizer):
    config = tokenizer.config()
    rebuilt = tokenizer_from_config(config)
    assert rebuilt == tokenizer and type(rebuilt) is type(tokenizer)
    assert rebuilt("It's a Test!") == tokenizer("It's a Test!")
    assert repr(rebuilt) == repr(tokenizer)


def test_config_is_json_ready():
    assert WordTokenizer(lower=True).config() == {"kind": "word", "lower": True,
                                                  "split_contractions": False}
    assert WhitespaceTokenizer(separator=" ").config() == {"kind": "whitespace",
                                                          "lower": False, "separator": " "}


@pytest.mark.parametrize("config, match", [
    ({"kind": "bpe"}, "unknown tokenizer kind 'bpe'"),
    ({"lower": True}, "unknown tokenizer kind None"),
    ({"kind": "word", "stem": True}, "bad settings for a word tokenizer"),
])
def test_bad_configs_are_refused(config, match):
    with pytest.raises(ValueError, match=match):
        tokenizer_from_config(config)


@pytest.mark.parametrize("make", [lambda: CharTokenizer(lower="yes"),
                                  lambda: WordTokenizer(split_contractions=1)])
def test_settings_must_be_booleans(make):
    with pytest.raises(TypeError, match="must be True or False"):
        make()


@pytest.mark.parametrize("tokenizer", [CharTokenizer(), WhitespaceTokenizer(), WordTokenizer()])
def test_tokenizers_take_strings_only(tokenizer):
    with pytest.raises(TypeError, match="expected a str, got list"):
        tokenizer(["a", "b"])
