"""Count the letter triples of ordinary code and prose: the data of `privacy.char_model`.

Reads the source and documents of the packages in the project's virtual
environment (site-packages, test directories skipped: they hold test vectors,
digests and made-up keys), splits them into runs of letters and digits and
counts each run's triples of characters, case kept, with "^" before and "$"
after the run. Triples seen once are dropped (a stray digest's); the counts
of their two-character contexts are kept whole, so probabilities stay right.

The standard library is left out on purpose: the redaction false-positive
benchmarks (`tests/benchmarks/redaction_fp_wide.py`) judge on it, and a
model trained there would flatter them.

    .venv/bin/python scripts/train_char_model.py

writes mirix_desktop/privacy/char_trigrams.tsv.gz.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "mirix_desktop" / "privacy" / "char_trigrams.tsv.gz"
SUFFIXES = {".py", ".pyi", ".md", ".rst", ".txt"}
LIMIT = 60_000_000  # characters: enough for stable counts, a minute to read
RUN = re.compile(r"[A-Za-z0-9]{3,}")
SKIPPED = re.compile(r"/(?:tests?|testing|test_data|testdata)/|/mirix")


def _texts(site: Path) -> Iterator[str]:
    read = 0
    for path in sorted(site.rglob("*")):
        if path.suffix not in SUFFIXES or SKIPPED.search(str(path)) or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        yield text
        read += len(text)
        if read >= LIMIT:
            return


def main() -> int:
    sites = sorted((ROOT / ".venv" / "lib").glob("python3*/site-packages"))
    if not sites:
        print("no .venv: run scripts/bootstrap.sh first", file=sys.stderr)
        return 1
    triples: Counter[str] = Counter()
    contexts: Counter[str] = Counter()
    for text in _texts(sites[0]):
        for run in RUN.findall(text):
            padded = "^^" + run + "$"
            for index in range(2, len(padded)):
                triples[padded[index - 2 : index + 1]] += 1
                contexts[padded[index - 2 : index]] += 1
    rows = [f"c\t{key}\t{count}" for key, count in sorted(contexts.items())]
    rows += [f"t\t{key}\t{count}" for key, count in sorted(triples.items()) if count >= 2]
    OUT.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode(), mtime=0))
    print(f"{len(rows)} rows, {OUT.stat().st_size} bytes -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
