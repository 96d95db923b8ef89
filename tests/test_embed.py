"""The embedder: ONNX MiniLM (the default runner) against the sentence-transformers reference on real
paragraphs of the corpus (the published regulatory text and a comment letter). Timings are not tested
here: bench/bench_embed.py measures them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from pipeline import embed
from pipeline.ingest import read_document
from pipeline.manifest import load_manifest, locate
from pipeline.segment import segment
from tests.conftest import PROJECT_ROOT

DOCUMENTS = ("bis-2025-00636-regtext", "openai-2025-03-13-ai-action-plan")


@pytest.fixture(scope="module")
def paragraphs(real_corpus) -> list[str]:
    texts = []
    for entry in load_manifest():
        if entry.id in DOCUMENTS:
            texts += [p.text for p in segment(read_document(locate(entry, [real_corpus])), entry)]
    assert len(texts) > 300
    return texts[::2][:400]


@pytest.fixture(scope="module")
def vectors(paragraphs):
    return embed.model("onnx").encode(paragraphs), embed.model("torch").encode(paragraphs)


@pytest.mark.slow  # the real corpus embedded by both runners
def test_the_default_runner_is_onnx_and_its_vectors_are_unit_float32_384_wide(paragraphs, vectors):
    assert isinstance(embed.model("onnx"), embed.OnnxRunner)
    onnx, _ = vectors
    assert onnx.shape == (len(paragraphs), embed.DIMENSIONS) and onnx.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert embed.encode([]).shape == (0, embed.DIMENSIONS)
    one = embed.encode([paragraphs[0]])
    assert one.shape == (1, embed.DIMENSIONS) and np.allclose(one[0], onnx[0], atol=1e-5)  # alone as in a batch


@pytest.mark.slow  # the real corpus embedded by both runners
def test_batches_spread_over_threads_give_each_text_its_own_vector(paragraphs, vectors):
    """encode hands batches of like lengths to one single-threaded session per core: every text still
    gets the vector it gets alone on one thread, in its own row."""
    onnx, _ = vectors
    runner = embed.model("onnx")
    one_thread = runner.encode(paragraphs, threads=1)
    for threads, batch in ((2, embed.BATCH), (3, 7)):
        spread = runner.encode(paragraphs, batch_size=batch, threads=threads)
        assert spread.shape == one_thread.shape
        assert float((spread * one_thread).sum(axis=1).min()) > 0.99999, (threads, batch)
    assert np.allclose(onnx, one_thread, atol=1e-5)


@pytest.mark.slow  # the real corpus embedded by both runners
def test_onnx_gives_the_references_vectors_and_neighbours(vectors):
    onnx, reference = vectors
    assert (onnx * reference).sum(axis=1).min() > 0.9999  # the cache's vectors stay valid across runners

    def top5(matrix):
        scores = matrix @ matrix.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1)[:, :5]

    agreement = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top5(onnx), top5(reference))])
    assert agreement >= 0.9, agreement


@pytest.mark.slow  # the real corpus embedded by both runners
def test_long_texts_are_cut_at_the_models_word_piece_limit_as_the_reference_cuts_them(paragraphs):
    long_text = " ".join(paragraphs[:20])
    onnx, reference = embed.model("onnx").encode([long_text]), embed.model("torch").encode([long_text])
    assert float(onnx[0] @ reference[0]) > 0.9999


@pytest.mark.slow  # the real corpus embedded by both runners
def test_texts_alike_up_to_the_cut_are_run_once_and_get_the_vector_each_gets_alone(paragraphs, vectors, monkeypatch):
    """The model lowercases, drops spacing and reads MAX_TOKENS word pieces: texts that agree that far
    (the rule's two versions of a provision, a heading and its paragraph) are run once."""
    onnx, _ = vectors
    runner = embed.model("onnx")
    long_text = next(text for text in paragraphs if len(text.split()) > 80)
    variants = [long_text, "  " + long_text.upper(), long_text + " And a different end."]
    rows = []
    real = runner.embed_batch

    def counted(session, encodings):
        rows.append(len(encodings))
        return real(session, encodings)

    monkeypatch.setattr(runner, "embed_batch", counted)
    together = runner.encode(variants + paragraphs[:30], threads=1)
    others = {tuple(e.ids) for e in runner.tokenizer.encode_batch(paragraphs[:30])}
    assert sum(rows) == 1 + len(others - {tuple(runner.tokenizer.encode(long_text).ids)})
    for row, text in enumerate(variants):
        assert float(together[row] @ real(runner.session(1), [runner.tokenizer.encode(text)])[0]) > 0.99999
    assert np.allclose(together[3:], onnx[:30], atol=1e-5)


def test_a_query_embeds_without_importing_torch():
    code = (
        "import sys; from pipeline import embed; v = embed.encode(['license exception for data centers']); "
        "assert v.shape == (1, 384); print('torch' in sys.modules, type(embed.model()).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "REGKB_EMBEDDER"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "OnnxRunner"]


def test_the_onnx_graph_lives_in_the_model_cache_not_in_the_package(monkeypatch, tmp_path):
    assert embed.ensure_onnx().is_relative_to(embed.model_cache())
    assert not embed.onnx_path().is_relative_to(PROJECT_ROOT / "pipeline")
    monkeypatch.setenv("REGKB_MODEL_CACHE", str(tmp_path))
    assert embed.onnx_path().parent == tmp_path
    monkeypatch.setenv("REGKB_EMBEDDER", "torch")
    assert embed.runner_name() == "torch"
