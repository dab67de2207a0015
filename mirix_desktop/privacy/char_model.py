"""How unlike ordinary code and prose a short run of letters and digits reads.

The rules in `secret_patterns` judge a run by its letter pairs (`randomness`),
which needs 10-16 characters to tell a key from a name. A piece of a key that
OCR cut off alone on its row is often 8-13 ("9p6YDjZBC", "NadRwaEITODAA"),
and there those rules let most pieces through. A character model sees more:
triples of characters, case kept, counted over ordinary text, so a case
change in the middle of letters ("YDjZ") or a digit between them ("p6Y")
costs what it costs in real names ("getElementById", "x509", "utf8").

`surprise(run)` is the run's log-likelihood per character under that model
minus its log-likelihood as uniform random base62: below 0 the run reads more
like random characters than like text. Random base62 runs of 8-12 characters
score about -3.4 (99 of 100 below -1.2); distinct names of 8-14 characters
in the standard library that mix cases or digits, above -1.5 for 99 in 100.

The counts come from the packages of the project's virtual environment, not
the standard library (`scripts/train_char_model.py`), so the false-positive
benchmarks that read the standard library judge a model that never saw it.
"""

from __future__ import annotations

import gzip
import math
from functools import cache
from importlib import resources

# A triple never counted still gets this fraction of one count: unseen is rare,
# not impossible ("Qz" in "Qzone").
_SMOOTHING = 0.01
_SYMBOLS = 63  # 62 letters and digits and the end mark
_UNIFORM = math.log(62)


@cache
def _counts() -> tuple[dict[str, int], dict[str, int]]:
    data = resources.files(__package__).joinpath("char_trigrams.tsv.gz").read_bytes()
    triples: dict[str, int] = {}
    contexts: dict[str, int] = {}
    for row in gzip.decompress(data).decode().splitlines():
        table, key, count = row.split("\t")
        (triples if table == "t" else contexts)[key] = int(count)
    return triples, contexts


def surprise(run: str) -> float:
    """Log-likelihood per character under the text model minus that of random
    base62: negative reads as random, positive as text. `run` is letters and
    digits only (ASCII); anything else is scored as an unseen character."""
    triples, contexts = _counts()
    padded = "^^" + run + "$"
    total = 0.0
    for index in range(2, len(padded)):
        seen = triples.get(padded[index - 2 : index + 1], 0)
        context = contexts.get(padded[index - 2 : index], 0)
        total += math.log((seen + _SMOOTHING) / (context + _SMOOTHING * _SYMBOLS))
    return total / (len(run) + 1) + _UNIFORM
