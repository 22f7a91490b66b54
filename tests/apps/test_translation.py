"""The translation application: the encoder-decoder with attention learns a copy task exactly,
greedy and beam search (width 1 is greedy, the length penalty, finding what greedy misses),
detokenization and BLEU, and ``retrograd train multi30k`` / ``translate`` / ``evaluate`` end
to end on a small generated parallel corpus."""
import argparse
import gzip
import json

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.apps.text import cli_translation, translation
from retrograd.apps.text.beam import beam_search, greedy_search
from retrograd.apps.text.multi30k import detokenize, load_multi30k
from retrograd.apps.text.seq2seq import Seq2Seq, Seq2SeqBatch
from retrograd.text import pad_batch

PAD, BOS, EOS = 0, 2, 3          # the ids of retrograd.text.Vocab's specials
SYMBOLS = 8                      # copy task: tokens 4 .. 4 + SYMBOLS - 1
VOCAB = 4 + SYMBOLS


def random_sequences(rng, n, shortest=1, longest=6):
    return [rng.integers(4, VOCAB, rng.integers(shortest, longest + 1)) for _ in range(n)]


def decode_all(model, sources, beam_size=None, max_length=10, length_penalty=1.0):
    source = pad_batch(sources, PAD)
    with rg.no_grad():
        state, encoded = model.encode(source)
    settings = dict(batch_size=len(sources), max_length=max_length, bos_id=BOS, eos_id=EOS)
    if beam_size is None:
        return greedy_search(model.decoding_step(encoded, banned=(PAD, BOS)), state, **settings)
    return beam_search(model.decoding_step(encoded, beam_size, (PAD, BOS)), state,
                       beam_size=beam_size, length_penalty=length_penalty, **settings)


@pytest.fixture(scope="module")
def copy_model():
    """A small Seq2Seq trained to copy its input: 200 steps of 64 sequences, the learning
    rate lowered for the last 80 to settle exactly."""
    rg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Seq2Seq(VOCAB, VOCAB, embedding_dim=16, hidden_size=32, attention_size=32,
                    dropout=0.0, padding_idx=PAD)
    optimizer = rg.optim.Adam(model.parameters(), lr=0.01)
    scheduler = rg.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[120], gamma=0.2)
    for _ in range(200):
        sources = random_sequences(rng, 64)
        target = pad_batch([np.r_[BOS, s, EOS] for s in sources], PAD).tokens
        scores = model(Seq2SeqBatch(pad_batch(sources, PAD), target[:, :-1]))
        loss = F.cross_entropy(scores.reshape(-1, VOCAB), target[:, 1:].reshape(-1),
                               ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return model.eval()


# --------------------------------------------------------------------------- the model
def test_copy_task_is_learned_exactly_by_greedy_and_beam_search(copy_model):
    sources = random_sequences(np.random.default_rng(1), 100)
    expected = [list(s) for s in sources]
    assert decode_all(copy_model, sources) == expected
    assert decode_all(copy_model, sources, beam_size=4) == expected


def test_padding_changes_nothing():
    """A sentence is scored the same alone and in a batch with longer sentences: the encoder
    skips padding (packed) and attention never looks at it (mask)."""
    rg.manual_seed(0)
    model = Seq2Seq(VOCAB, VOCAB, 8, 16, 16, dropout=0.0).eval()
    rng = np.random.default_rng(0)
    short, long = random_sequences(rng, 1, 2, 2)[0], random_sequences(rng, 1, 7, 7)[0]
    target = rg.tensor([[BOS, 5, 6, 7]])
    with rg.no_grad():
        alone = model(Seq2SeqBatch(pad_batch([short]), target))
        together = model(Seq2SeqBatch(pad_batch([short, long]), target.expand(2, 4)))
    np.testing.assert_allclose(together[0].numpy(), alone[0].numpy(), rtol=1e-5, atol=1e-6)


def test_teacher_forced_scores_match_step_by_step_decoding():
    rg.manual_seed(1)
    model = Seq2Seq(VOCAB, VOCAB, 8, 16, 16, dropout=0.0).eval()
    sources = pad_batch(random_sequences(np.random.default_rng(2), 3, 3, 5))
    targets = rg.tensor([[BOS, 4, 5, 6], [BOS, 7, 7, 8], [BOS, 9, 4, 4]])
    with rg.no_grad():
        forced = F.log_softmax(model(Seq2SeqBatch(sources, targets)), dim=-1)
        state, encoded = model.encode(sources)
        step = model.decoding_step(encoded)
        for t in range(4):
            log_probs, state = step(targets[:, t], state)
            np.testing.assert_allclose(log_probs.numpy(), forced[:, t].numpy(), rtol=1e-5,
                                       atol=1e-5)


def test_gradients_reach_every_parameter():
    rg.manual_seed(0)
    model = Seq2Seq(VOCAB, VOCAB, 8, 16, 16, dropout=0.1)
    sources = pad_batch(random_sequences(np.random.default_rng(0), 4, 1, 5))
    target = rg.tensor([[BOS, 4, 5], [BOS, 6, PAD], [BOS, 7, 8], [BOS, 9, 9]])
    model(Seq2SeqBatch(sources, target)).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and np.any(parameter.grad.numpy() != 0), name


# -------------------------------------------------------------------------------- search
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_of_width_1_is_greedy_search(seed):
    rg.manual_seed(seed)
    model = Seq2Seq(VOCAB, VOCAB, 8, 16, 16, dropout=0.0).eval()  # untrained: long outputs
    sources = random_sequences(np.random.default_rng(seed), 20)
    assert decode_all(model, sources, beam_size=1, max_length=12) == \
        decode_all(model, sources, max_length=12)


def fixed_decoder(table):
    """A decoder whose next-token probabilities depend only on the last token:
    ``table[last token]`` (a dict token -> probability over tokens 0..5; BOS = 2, EOS = 3)."""
    log_table = np.full((6, 6), -np.inf)
    for last, row in table.items():
        for token, probability in row.items():
            log_table[last, token] = np.log(probability)

    def step(tokens, state):
        return log_table[tokens.numpy()], state
    return step


def search(step, beam_size, length_penalty=1.0, max_length=6):
    state = rg.zeros(1, 1)
    if beam_size is None:
        return greedy_search(step, state, 1, max_length, BOS, EOS)[0]
    return beam_search(step, state, 1, beam_size, max_length, BOS, EOS, length_penalty)[0]


def test_beam_search_finds_what_greedy_search_misses():
    # greedy takes 4 (0.6) then 5 (0.6) and ends: p 0.36; 5 first, then the end, is likelier
    step = fixed_decoder({BOS: {4: 0.6, 5: 0.4}, 4: {5: 0.6, 4: 0.4}, 5: {EOS: 1.0}})
    assert search(step, None) == [4, 5]                  # p = 0.6 * 0.6 = 0.36
    assert search(step, 2, length_penalty=0) == [5]      # p = 0.4


@pytest.mark.parametrize("beam_size", [2, 3])
def test_length_penalty_favours_longer_outputs(beam_size):
    # ending at once: p 0.4 (1 token); one more token first: p 0.6 * 0.6 = 0.36 (2 tokens)
    step = fixed_decoder({BOS: {EOS: 0.4, 4: 0.6}, 4: {EOS: 0.6, 4: 0.4}})
    assert search(step, beam_size, length_penalty=0) == []        # log 0.4 > log 0.36
    assert search(step, beam_size, length_penalty=1) == [4]       # log 0.36 / 2 > log 0.4


def test_length_penalty_on_a_model_lengthens_translations_on_average():
    rg.manual_seed(3)
    model = Seq2Seq(VOCAB, VOCAB, 8, 16, 16, dropout=0.0).eval()
    sources = random_sequences(np.random.default_rng(3), 30)
    lengths = [np.mean([len(out) for out in decode_all(model, sources, 4, 12, penalty)])
               for penalty in (0.0, 1.0, 3.0)]
    assert lengths[0] <= lengths[1] <= lengths[2] and lengths[0] < lengths[2]


def test_unfinished_outputs_compete_at_the_length_limit():
    step = fixed_decoder({BOS: {4: 1.0}, 4: {4: 0.9, EOS: 0.1}})
    assert search(step, None, max_length=3) == [4, 4, 4]
    # two outputs end in time, [4] (p .1) and [4 4] (p .09): fewer than the beam's 3, so the
    # unfinished [4 4 4] (p .81) competes, and wins
    assert search(step, 3, max_length=3) == [4, 4, 4]
    # a beam of 2 is done with its two finished outputs
    assert search(step, 2, max_length=3) == [4, 4]


@pytest.mark.parametrize("call, message", [
    (lambda step: greedy_search(step, rg.zeros(1, 1), 1, 0, BOS, EOS), "max_length"),
    (lambda step: beam_search(step, rg.zeros(1, 1), 1, 0, 5, BOS, EOS), "beam_size"),
    (lambda step: greedy_search(step, rg.zeros(1, 1), 1, 5, EOS, EOS), "differ"),
])
def test_search_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call(fixed_decoder({BOS: {EOS: 1.0}}))


# ------------------------------------------------------------------- text and BLEU
@pytest.mark.parametrize("tokens, text", [
    (["Ein", "Mann", "fährt", "Fahrrad", "."], "Ein Mann fährt Fahrrad."),
    (["Hunde", ",", "Katzen", "und", "Vögel", "!"], "Hunde, Katzen und Vögel!"),
    (["ein", "(", "roter", ")", "Ball", "..."], "ein (roter) Ball..."),
    (["er", "sagt", '"', "hallo", '"', "."], 'er sagt "hallo".'),
    ([], ""),
])
def test_detokenize(tokens, text):
    assert detokenize(tokens) == text


def test_corpus_bleu():
    pytest.importorskip("sacrebleu")
    references = ["Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee."]
    assert translation.corpus_bleu(references, references) == pytest.approx(100)
    assert translation.corpus_bleu(["ein mann fährt fahrrad.", "zwei hunde spielen im schnee."],
                                   references) < 100
    assert translation.corpus_bleu(["ein mann fährt fahrrad.", "zwei hunde spielen im schnee."],
                                   references, lowercase=True) == pytest.approx(100)
    assert translation.corpus_bleu(["Katzen schlafen.", "Blau."], references) < 10


# ---------------------------------------------------------------------------- application
WORDS = {"a": "ein", "man": "Mann", "dog": "Hund", "runs": "läuft", "red": "rot",
         "big": "groß", "the": "der", "park": "Park", "in": "im", "sees": "sieht"}


def write_corpus(root, sizes=(("train", 400), ("val", 30), ("test_2016_flickr", 30))):
    """A word-for-word 'translation' of random English word sequences, in Multi30k's files."""
    rng = np.random.default_rng(0)
    folder = root / "multi30k"
    folder.mkdir(parents=True)
    english = list(WORDS)
    for split, n in sizes:
        pairs = []
        for _ in range(n):
            words = list(rng.choice(english, rng.integers(2, 6)))
            pairs.append((" ".join(words).capitalize() + ".",
                          " ".join(WORDS[w] for w in words) + "."))
        for side, language in enumerate(("en", "de")):
            with gzip.open(folder / f"{split}.{language}.gz", "wt", encoding="utf-8") as f:
                f.write("\n".join(pair[side] for pair in pairs) + "\n")
    return str(root)


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="retrograd")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_translation.register(commands.add_parser("train").add_subparsers(dest="dataset"))
    cli_translation.register_commands(commands)
    evaluate = commands.add_parser("evaluate")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--data-dir", default=None)
    evaluate.set_defaults(run=cli_translation.evaluate)
    args = parser.parse_args([str(arg) for arg in argv])
    return args.run(args)


def test_load_multi30k(tmp_path):
    root = write_corpus(tmp_path)
    english, german = load_multi30k("val", root)
    assert len(english) == len(german) == 30 and english[0].endswith(".")
    with pytest.raises(ValueError, match="split"):
        load_multi30k("dev", root)
    with pytest.raises(FileNotFoundError, match="multi30k"):
        load_multi30k("train", str(tmp_path / "nowhere"))
    with gzip.open(tmp_path / "multi30k" / "val.de.gz", "wt", encoding="utf-8") as f:
        f.write("eins\n")
    with pytest.raises(ValueError, match="30 English and 1 German"):
        load_multi30k("val", root)


def test_train_translate_evaluate_end_to_end(tmp_path, capsys):
    pytest.importorskip("sacrebleu")
    root = write_corpus(tmp_path / "data")
    out = tmp_path / "run"
    assert run_cli(["train", "multi30k", "--epochs", 2, "--batch-size", 32,
                    "--embedding-dim", 16, "--hidden-size", 16, "--attention-size", 16,
                    "--dropout", 0, "--lr", 0.01, "--beam-size", 3, "--bleu-sentences", 10,
                    "--data-dir", root, "--out", out, "--no-progress"]) == 0
    for name in ("config.json", "vocab.en.json", "vocab.de.json", "best.ckpt", "last.ckpt",
                 "history.json", "test_translations.txt"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["app"] == "translation"
    assert config["tokenizers"][0]["lower"] and not config["tokenizers"][1]["lower"]
    history = json.loads((out / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(0 <= row["val_bleu"] <= 100 for row in history)
    assert history[1]["val_loss"] < history[0]["val_loss"]
    assert 0 <= config["results"]["test_bleu"] <= 100
    assert len((out / "test_translations.txt").read_text(encoding="utf-8").splitlines()) == 30
    capsys.readouterr()

    assert run_cli(["translate", out, "a man sees the dog .", "The red dog runs.",
                    "--beam", 3]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(isinstance(line, str) for line in lines)

    assert run_cli(["evaluate", out]) == 0
    assert f"BLEU {config['results']['test_bleu']:.2f}" in capsys.readouterr().out


def test_translate_refuses_a_sentence_without_words(tmp_path):
    rg.manual_seed(0)
    from retrograd.text import Vocab, WordTokenizer
    vocabs = (Vocab(["a"]), Vocab(["ein"]))
    model = Seq2Seq(len(vocabs[0]), len(vocabs[1]), 4, 4, 4)
    with pytest.raises(ValueError, match="sentence 2"):
        translation.translate(model, ["a", "  "], WordTokenizer(lower=True), vocabs)


def test_the_retrograd_command_has_the_application():
    from retrograd import cli
    if "translation" not in cli.APPS:
        pytest.skip("retrograd/cli.py does not list the translation application yet")
    parser = cli.build_parser()
    args = parser.parse_args(["train", "multi30k", "--max-minutes", "120"])
    assert args.run is cli_translation.train and args.max_minutes == 120
    args = parser.parse_args(["translate", "runs/x", "a man .", "--beam", "5"])
    assert args.run is cli_translation.translate and args.beam_size == 5
