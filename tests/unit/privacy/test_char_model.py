"""The character model tells random characters from names and words, case kept."""

from __future__ import annotations

import random
import string

from mirix_desktop.privacy.char_model import surprise

B62 = string.ascii_letters + string.digits
NAMES = [
    "getElementById", "HTTPServer", "README", "iPhone15Pro", "MyClass2", "Python311",
    "x86_64", "ThreadPoolExecutor", "setUpClass", "Makefile",
    "isinstance", "DEFAULT_TIMEOUT", "base64", "sha256sum", "localhost", "Authorization",
]  # fmt: skip
# Small letters with digits can read as random ("utf8mb4" -2.1, "nvme0n1p2"):
# the row rule asks for both cases (`secret_spans._random_piece`).


def test_random_base62_runs_read_as_random() -> None:
    rng = random.Random(7)
    for length in (8, 10, 12):
        runs = ["".join(rng.choice(B62) for _ in range(length)) for _ in range(400)]
        below = sum(surprise(run) < -1.8 for run in runs)
        assert below >= 0.9 * len(runs), (length, below)


def test_names_and_words_read_as_text() -> None:
    scores = {name: round(surprise(name.replace("_", "")), 2) for name in NAMES}
    assert all(score > -1.0 for score in scores.values()), scores


def test_case_is_part_of_the_model() -> None:
    # The same letters with random case changes read as random; as written, as text.
    assert surprise("getElementById") > 0 > surprise("gEtelEMEnTbYiD")
