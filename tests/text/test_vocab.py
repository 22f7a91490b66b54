"""Vocab: special tokens, frequency order, min_freq / max_size, unknown tokens, encode/decode
round trips and JSON save/load."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd.text import BOS, EOS, PAD, SPECIALS, UNK, Vocab

CORPUS = [["the", "film", "is", "good"], ["the", "plot", "is", "bad"], ["good", "good", "the"]]


def test_specials_come_first_with_fixed_ids():
    vocab = Vocab.build(CORPUS)
    assert vocab.tokens[:4] == [PAD, UNK, BOS, EOS] == list(SPECIALS)
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert vocab[PAD] == 0 and vocab.lookup_token(1) == UNK


def test_tokens_are_ordered_by_frequency_then_first_appearance():
    vocab = Vocab.build(CORPUS)
    # the: 3, good: 3 (the seen first), is: 2, then film, plot, bad once each in corpus order
    assert vocab.tokens[4:] == ["the", "good", "is", "film", "plot", "bad"]
    assert len(vocab) == 10 and "plot" in vocab and "great" not in vocab


@pytest.mark.parametrize("min_freq, expected", [(1, 6), (2, 3), (3, 2), (4, 0)])
def test_min_freq_drops_rare_tokens(min_freq, expected):
    vocab = Vocab.build(CORPUS, min_freq=min_freq)
    assert len(vocab) == len(SPECIALS) + expected


@pytest.mark.parametrize("max_size, expected", [(None, ["the", "good", "is", "film", "plot",
                                                        "bad"]),
                                                (2, ["the", "good"]), (0, []), (100, None)])
def test_max_size_keeps_the_most_frequent_tokens_besides_the_specials(max_size, expected):
    vocab = Vocab.build(CORPUS, max_size=max_size)
    expected = ["the", "good", "is", "film", "plot", "bad"] if expected is None else expected
    assert vocab.tokens == list(SPECIALS) + expected


def test_special_tokens_in_the_corpus_are_not_added_twice():
    vocab = Vocab.build([["<unk>", "a", "<pad>", "a"]])
    assert vocab.tokens == list(SPECIALS) + ["a"]


def test_build_accepts_any_iterable_of_token_lists():
    vocab = Vocab.build(text.split() for text in ["a b", "b c"])
    assert vocab.tokens[4:] == ["b", "a", "c"]


def test_unknown_tokens_encode_to_unk():
    vocab = Vocab.build(CORPUS)
    ids = vocab.encode(["the", "gripping", "film"])
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [vocab["the"], vocab.unk_id, vocab["film"]])
    assert vocab["never seen"] == vocab.unk_id


def test_encode_adds_bos_and_eos():
    vocab = Vocab.build(CORPUS)
    ids = vocab.encode(["good"], add_bos=True, add_eos=True)
    np.testing.assert_array_equal(ids, [vocab.bos_id, vocab["good"], vocab.eos_id])


def test_encode_of_nothing_is_an_empty_int64_array():
    ids = Vocab.build(CORPUS).encode([])
    assert ids.shape == (0,) and ids.dtype == np.int64


def test_decode_inverts_encode_and_can_skip_specials():
    vocab = Vocab.build(CORPUS)
    tokens = ["the", "plot", "is", "good"]
    ids = vocab.encode(tokens, add_bos=True, add_eos=True)
    assert vocab.decode(ids) == [BOS, *tokens, EOS]
    assert vocab.decode(ids, skip_specials=True) == tokens
    assert vocab.decode(rg.tensor(ids)) == vocab.decode(ids.tolist())
    assert vocab.decode(vocab.encode(["gripping"])) == [UNK]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.text(min_size=1, max_size=5), max_size=6), min_size=1, max_size=6))
def test_every_training_token_round_trips(token_lists):
    vocab = Vocab.build(token_lists)
    for tokens in token_lists:
        ordinary = [t for t in tokens if t not in SPECIALS]
        assert vocab.decode(vocab.encode(ordinary)) == ordinary


def test_without_an_unk_token_unknown_tokens_raise():
    vocab = Vocab.build(CORPUS, specials=(PAD,))
    assert vocab.tokens[0] == PAD and len(vocab) == 7
    with pytest.raises(KeyError, match="'gripping' is not in the vocabulary"):
        vocab.encode(["good", "gripping"])
    with pytest.raises(AttributeError, match="no <bos> token"):
        vocab.bos_id


def test_custom_specials():
    vocab = Vocab(["a", "b"], specials=("[PAD]", "<unk>", "[CLS]"))
    assert vocab.tokens == ["[PAD]", "<unk>", "[CLS]", "a", "b"]
    assert vocab.unk_id == 1 and vocab["zzz"] == 1
    assert vocab.decode([2, 3], skip_specials=True) == ["a"]


@pytest.mark.parametrize("bad, error, match", [
    (dict(min_freq=0), ValueError, "min_freq must be an int >= 1"),
    (dict(min_freq=1.5), ValueError, "min_freq"),
    (dict(max_size=-1), ValueError, "max_size must be None or an int >= 0"),
])
def test_bad_build_settings_are_refused(bad, error, match):
    with pytest.raises(error, match=match):
        Vocab.build(CORPUS, **bad)


def test_a_corpus_of_strings_is_refused():
    with pytest.raises(TypeError, match="tokenize the texts first"):
        Vocab.build(["the film", "a plot"])
    with pytest.raises(TypeError, match="tokenize it first"):
        Vocab.build(CORPUS).encode("the film")


def test_duplicate_and_non_string_tokens_are_refused():
    with pytest.raises(ValueError, match="'a' appears twice, at ids 4 and 5"):
        Vocab(["a", "a"])
    with pytest.raises(TypeError, match="tokens must be str, got 3"):
        Vocab(["a", 3])


@pytest.mark.parametrize("ids, error, match", [
    ([0, 10], IndexError, "id 10 is out of range for a vocabulary of 10 tokens"),
    ([-1], IndexError, "id -1 is out of range"),
    ([[1, 2]], ValueError, "1-D sequence of integer ids, got shape"),
    ([0.5], ValueError, "of dtype float64"),
])
def test_bad_ids_are_refused(ids, error, match):
    with pytest.raises(error, match=match):
        Vocab.build(CORPUS).decode(ids)


def test_lookup_token_out_of_range():
    with pytest.raises(IndexError, match="id 10 is out of range"):
        Vocab.build(CORPUS).lookup_token(10)


def test_save_and_load_round_trip(tmp_path):
    vocab = Vocab.build(CORPUS + [["café", "2\u00a01/2", '"', "n't"]])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab and loaded.tokens == vocab.tokens
    assert loaded.encode(["2\u00a01/2", "café"]).tolist() == vocab.encode(["2\u00a01/2",
                                                                            "café"]).tolist()
    assert "café" in path.read_text(encoding="utf-8")  # readable UTF-8, not \\u escapes
    assert not list(tmp_path.glob("*.partial"))


def test_save_and_load_keep_custom_specials(tmp_path):
    vocab = Vocab(["x"], specials=("<pad>",))
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json").specials == ("<pad>",)


@pytest.mark.parametrize("content", ["not json", json.dumps({"tokens": ["a"]}),
                                     json.dumps(["a", "b"])])
def test_load_refuses_files_that_are_not_vocabularies(tmp_path, content):
    path = tmp_path / "vocab.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="Vocab.load: .*vocab.json"):
        Vocab.load(path)


def test_equality_and_repr():
    assert Vocab.build(CORPUS) == Vocab.build(CORPUS)
    assert Vocab.build(CORPUS) != Vocab.build(CORPUS, min_freq=2)
    assert repr(Vocab.build(CORPUS)) == ("Vocab(10 tokens, specials ['<pad>', '<unk>', "
                                         "'<bos>', '<eos>'])")
