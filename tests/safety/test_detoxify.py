"""The real detoxify code path, on a tiny checkpoint built here in detoxify's own format
(random weights: the scores mean nothing, the loading and batching are real)."""
import sys

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from pressroom.safety.checks.base import Subject
from pressroom.safety.checks.toxicity import ToxicityCheck, current_toxicity_scorer, install_toxicity_scorer
from pressroom.safety.models import SafetyPolicy
from pressroom_workers.safety import DetoxifyScorer, install_configured_toxicity_scorer

pytestmark = pytest.mark.models

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "a", "nice", "idiot", "great", "deal", "shoes", "."]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("detoxify")
    config_dir = folder / "hf"
    config_dir.mkdir()
    (config_dir / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    BertTokenizer(vocab_file=str(config_dir / "vocab.txt")).save_pretrained(config_dir)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=len(CLASSES))
    config.save_pretrained(config_dir)
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    checkpoint = folder / "toxic_tiny.ckpt"
    torch.save({
        "config": {
            "arch": {"args": {"model_type": str(config_dir), "model_name": "BertForSequenceClassification",
                              "tokenizer_name": "BertTokenizer", "num_classes": len(CLASSES)}},
            "dataset": {"args": {"classes": CLASSES}},
        },
        "state_dict": model.state_dict(),
    }, checkpoint)
    return checkpoint, config_dir


@pytest.fixture
def restore_scorer():
    yield
    install_toxicity_scorer(None)  # back to the lazily created baseline


def test_detoxify_checkpoint_scores_every_category_in_batches(tiny_checkpoint):
    checkpoint, config_dir = tiny_checkpoint
    scorer = DetoxifyScorer(checkpoint=str(checkpoint), huggingface_config_path=str(config_dir), batch_size=2)
    texts = ["you are a nice deal .", "you are a idiot .", "great shoes .", "nice"]
    batched = scorer.score(texts)
    one_by_one = [scorer.score([t])[0] for t in texts]
    assert set(batched[0]) == {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"}
    for together, alone in zip(batched, one_by_one):
        assert all(0.0 <= value <= 1.0 for value in together.values())
        assert together == pytest.approx(alone, abs=1e-5)
    assert scorer.name == f"detoxify:{checkpoint}"


def test_configured_checkpoint_is_installed_and_recorded_in_verdicts(tiny_checkpoint, settings, restore_scorer):
    checkpoint, config_dir = tiny_checkpoint
    settings.PRESSROOM = {"TOXICITY": {"checkpoint": str(checkpoint), "huggingface_config_path": str(config_dir)}}
    assert install_configured_toxicity_scorer() == f"detoxify:{checkpoint}"
    (result,) = ToxicityCheck().run([Subject(text="you are a idiot .")], SafetyPolicy())
    assert result.scored_by == f"detoxify:{checkpoint}"
    assert set(result.scores) >= {"toxicity", "threat", "identity_attack"}


def test_missing_weights_fall_back_to_the_baseline_on_record(settings, tmp_path, restore_scorer):
    settings.PRESSROOM = {"TOXICITY": {"checkpoint": str(tmp_path / "missing.ckpt")}}
    note = install_configured_toxicity_scorer()
    assert note.startswith("baseline") and "missing.ckpt does not exist" in note
    (result,) = ToxicityCheck().run([Subject(text="hello")], SafetyPolicy())
    assert result.scored_by.startswith("alt-profanity-check") and "does not exist" in result.scored_by
    assert current_toxicity_scorer().name.startswith("alt-profanity-check")


_network_calls: list = []
_watching = {"on": False}


def _record_network(event, args):
    if _watching["on"] and event in ("socket.connect", "socket.getaddrinfo"):
        _network_calls.append((event, args))


sys.addaudithook(_record_network)


def test_an_offline_install_never_tries_to_download_detoxify(settings, restore_scorer, monkeypatch, tmp_path, caplog):
    from pressroom_workers.safety import log_toxicity_choice

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty torch hub cache
    settings.PRESSROOM = {"TOXICITY": {"variant": "original", "checkpoint": None}}
    _network_calls.clear()
    _watching["on"] = True
    try:
        with caplog.at_level("INFO", logger="pressroom_workers.safety"):
            choice = log_toxicity_choice()
        note = install_configured_toxicity_scorer()
    finally:
        _watching["on"] = False
    assert _network_calls == []
    assert not choice.use_detoxify and note.startswith("baseline") and "offline" in note
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Toxicity scorer:")]
    assert "offline baseline" in line
