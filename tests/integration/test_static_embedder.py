"""The static model is encoded with numpy and tokenizers alone, as model2vec would encode it.

model2vec (and torch behind its distillation) is a dev dependency only: these
tests use it as the reference, and check that the default path runs without it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mirix_desktop.errors import EmbedderUnavailable
from mirix_desktop.memory import embedder as embedder_module
from mirix_desktop.memory.embedder import StaticEmbedder, load_static_model, make_embedder
from tests.conftest import MODELS_DIR, PASSPHRASE, REPO
from tests.helpers.screens import screen, text_lines

TEXTS = [
    "Edited the Q3 budget table in LibreOffice",
    "git rebase --onto main feature",
    "",
    "[UNK] " + "q" * 101,  # unknown tokens only: the literal one, and a word too long
    "ünïcödé and emoji 🙂 in a window title",
    "word " * 2000,  # longer than the model's max_length of tokens
    # Cut to max_length x the median token length in characters before the
    # tokenizer, as model2vec cuts it: the known words at the end are dropped.
    "x" * 4000 + " budget invoice",
]

# Made unimportable in the subprocesses below: the default install has none of them.
HEAVY = ("torch", "transformers", "sentence_transformers", "model2vec")
BLOCKER = (
    "import sys\n"
    "class _Blocker:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    f"        if name.split('.')[0] in {HEAVY!r}:\n"
    "            raise ImportError(f'{name} is not installed (blocked by the test)')\n"
    "        return None\n"
    "sys.meta_path.insert(0, _Blocker())\n"
)


def test_vectors_are_those_model2vec_gives_for_the_same_folder(embedder: StaticEmbedder) -> None:
    from model2vec import StaticModel

    ours = load_static_model(embedder.directory)
    theirs = StaticModel.from_pretrained(str(embedder.directory))
    assert ours.max_length == theirs.max_length
    assert ours.median_token_length == theirs.median_token_length
    assert ours.token_ids(TEXTS) == theirs.tokenize(
        [text[: theirs.max_length * theirs.median_token_length] for text in TEXTS]
    )
    mine = ours.encode(TEXTS)
    reference = theirs.encode(TEXTS).astype(np.float32)
    # model2vec averages and normalises in float16; numpy here in float32.
    np.testing.assert_allclose(mine, reference, atol=2e-3)
    assert np.all(np.linalg.norm(mine[[0, 1, 4, 5]], axis=1) > 0.999)
    # No known token (nothing, or only unknown ones): a zero vector, as model2vec gives.
    assert not mine[[2, 3, 6]].any()
    assert embedder.embed(TEXTS).shape == (len(TEXTS), embedder.dim)


def test_the_search_and_ingest_path_runs_without_torch(tmp_path: Path) -> None:
    image = tmp_path / "shot.png"
    screen(text_lines(4), footer="Invoice for the Capybara rescue shelter").save(image)
    data = tmp_path / "data"
    code = (
        BLOCKER
        + "from mirix_desktop.cli.main import cli\n"
        + "def run(*args):\n"
        + "    try:\n"
        + "        cli([*args], prog_name='mirix-desktop')\n"
        + "    except SystemExit as exit:\n"
        + "        assert not exit.code, exit.code\n"
        + f"run('--data-dir', {str(data)!r}, 'ingest', '--app', 'evince', {str(image)!r})\n"
        + f"run('--data-dir', {str(data)!r}, 'search', 'capybara shelter', '--json')\n"
        + f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        + "print('HEAVY', loaded)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "MIRIX_PASSPHRASE": PASSPHRASE,
        "MIRIX_MODELS_DIR": str(MODELS_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr
    assert "Capybara" in result.stdout
    assert "HEAVY []" in result.stdout


def test_loading_imports_neither_model2vec_nor_the_hub_client(embedder: StaticEmbedder) -> None:
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from mirix_desktop.memory.embedder import StaticEmbedder\n"
        f"StaticEmbedder(Path({str(MODELS_DIR)!r})).embed(['warm up'])\n"
        "print('\\n'.join(sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    modules = {name.split(".")[0] for name in result.stdout.split()}
    assert not {*HEAVY, "huggingface_hub", "httpx", "rich", "scipy"} & modules


def test_the_transformer_embedder_without_its_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = embedder_module.importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "sentence_transformers" else real(name)

    monkeypatch.setattr(embedder_module.importlib.util, "find_spec", find_spec)
    with pytest.raises(EmbedderUnavailable, match=r"mirix-desktop\[transformer\]"):
        make_embedder("minilm", tmp_path)
    assert make_embedder("static-minilm", tmp_path).model_id == "static-minilm-384"


def test_the_transformer_embedder_fails_clearly_when_torch_is_gone(tmp_path: Path) -> None:
    # Installed once, then removed: the spec check passes, the import does not.
    code = (
        BLOCKER
        + "from pathlib import Path\n"
        + "from mirix_desktop.memory.embedder import MiniLMEmbedder\n"
        + "from mirix_desktop.errors import EmbedderUnavailable\n"
        + "try:\n"
        + "    MiniLMEmbedder().embed(['x'])\n"
        + "except EmbedderUnavailable as error:\n"
        + "    print('ERROR', error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR" in result.stdout and 'pip install "mirix-desktop[transformer]"' in result.stdout


def test_embedding_batch_size_bounds_each_encode(
    embedder: StaticEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = make_embedder("static-minilm", MODELS_DIR, batch_size=3)
    assert isinstance(small, StaticEmbedder)
    model = small.model()
    sizes: list[int] = []
    encode = model.encode

    def counting(texts: list[str]) -> object:
        sizes.append(len(texts))
        return encode(texts)

    monkeypatch.setattr(model, "encode", counting)
    np.testing.assert_allclose(small.embed(TEXTS), embedder.embed(TEXTS), atol=1e-6)
    assert sizes == [3, 3, 1]
