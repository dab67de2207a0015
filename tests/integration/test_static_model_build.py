"""Building the static model: once across processes, without torch, and as model2vec builds it.

The model is built here from scratch, once, by two processes that start at
the same moment with torch (and model2vec, transformers,
sentence-transformers) unimportable; the reference is model2vec's own
distillation of the same MiniLM (a dev dependency, torch behind it). The two
builds take about a minute each on a 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from mirix_desktop.memory.embedder import load_static_model, minilm_path
from tests.conftest import REPO
from tests.integration.test_static_embedder import BLOCKER, TEXTS

NAME = "static-minilm-384"
_BUILDER = (
    BLOCKER
    + "import logging, time\n"
    + "from pathlib import Path\n"
    + "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
    + "from mirix_desktop.memory.embedder import StaticEmbedder\n"
    + "models, start = Path(sys.argv[1]), float(sys.argv[2])\n"
    + "time.sleep(max(0.0, start - time.time()))\n"
    + "vector = StaticEmbedder(models).embed(['the budget table in LibreOffice'])[0]\n"
    + "print('VECTOR', ' '.join(f'{x:.6f}' for x in vector))\n"
)


@dataclass(frozen=True)
class Race:
    models: Path
    results: list[subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def race(tmp_path_factory: pytest.TempPathFactory) -> Race:
    models = tmp_path_factory.mktemp("models")
    # A dead build of an older version, which named its folder without a pid.
    (models / f"{NAME}.partial").mkdir()
    (models / f"{NAME}.partial" / "config.json").write_text("{}")
    start = time.time() + 3.0  # both processes are up and imported by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _BUILDER, str(models), str(start)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return Race(models, results)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model2vec's distillation with the settings static-minilm-384 was first built with."""
    pytest.importorskip("torch")
    from model2vec.distill import distill

    target = tmp_path_factory.mktemp("reference") / NAME
    distill(model_name=str(minilm_path()), pca_dims=None).save_pretrained(str(target))
    return target


def test_two_processes_starting_at_once_build_the_model_once_without_torch(race: Race) -> None:
    for result in race.results:
        assert result.returncode == 0, result.stderr
    vectors = [result.stdout.split("VECTOR", 1)[1] for result in race.results]
    assert vectors[0] == vectors[1]
    builds = [result.stderr.count("distilling a static embedding model") for result in race.results]
    assert sorted(builds) == [0, 1], [result.stderr for result in race.results]
    waited = race.results[builds.index(0)].stderr
    assert "another process built" in waited
    # The model, its lock, and nothing half-built (the stale folder is gone too).
    assert sorted(path.name for path in race.models.iterdir()) == [f".{NAME}.lock", NAME]
    assert (race.models / NAME / "model.safetensors").exists()


def test_numpy_distillation_matches_model2vecs_token_by_token(race: Race, reference: Path) -> None:
    ours_dir = race.models / NAME
    ours = load_file(str(ours_dir / "model.safetensors"))["embeddings"]
    theirs = load_file(str(reference / "model.safetensors"))["embeddings"]
    assert ours.dtype == theirs.dtype == np.float16
    assert ours.shape == theirs.shape == (29525, 384)
    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    norms_a, norms_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    cosines = (a * b).sum(axis=1) / (norms_a * norms_b)
    # Every token, not a sample.
    assert cosines.min() >= 0.999, (cosines.min(), int(cosines.argmin()))
    # Cosines cannot see a per-token scale: the SIF weights are checked by the norms.
    np.testing.assert_allclose(norms_a, norms_b, rtol=1e-2)
    # Same vocabulary, ids and tokenizer settings: the token rows line up.
    assert json.loads((ours_dir / "tokenizer.json").read_text()) == json.loads(
        (reference / "tokenizer.json").read_text()
    )
    mine_config = json.loads((ours_dir / "config.json").read_text())
    their_config = json.loads((reference / "config.json").read_text())
    assert mine_config == their_config
    assert json.loads((ours_dir / "modules.json").read_text()) == json.loads(
        (reference / "modules.json").read_text()
    )


def test_texts_embed_as_with_model2vecs_own_model(race: Race, reference: Path) -> None:
    mine = load_static_model(race.models / NAME).encode(TEXTS)
    theirs = load_static_model(reference).encode(TEXTS)
    cosines = (mine * theirs).sum(axis=1)
    known = np.linalg.norm(theirs, axis=1) > 0
    assert known.sum() >= 4
    assert cosines[known].min() >= 0.9999
    assert not mine[~known].any()
