"""Secrets drawn on screens, read by real tesseract, ingested into a passphrase store.

The small version of `tests/benchmarks/redaction_suite.py`: one secret of each
of twelve kinds, each in its own style (light/dark, mono/sans, two sizes),
through `ingest_image` with a real `Pipeline`. Afterwards no stored text
(OCR lines, memories' titles, bodies and fields, frame titles and URLs, the
FTS index) may hold a run of 8 characters of any of them, compared as is
and through OCR's confusions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirix_desktop.config import Settings
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.ingest import finish, ingest_image
from mirix_desktop.pipeline.pipeline import Pipeline
from mirix_desktop.privacy.redaction import Redactor
from tests.helpers.secret_screens import (
    STYLES,
    cases,
    held_out_cases,
    kinds,
    leaks,
    render,
    small_cases,
    stored_texts,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TITLE_TOKEN = "ghp_Wq8ZkT3vN6xR1mY4pB7cL0sD2fH5jG9aUe2K"
URL_TOKEN = "ya29a0AfB8xK2vQ7mT4nW9pR3sL6yZ1cD5eH8j"


def test_the_suite_holds_enough_secrets_and_its_check_ignores_their_context() -> None:
    assert len(cases()) >= 40 and len(kinds()) >= 12
    assert len({case.kind for case in small_cases()}) == 12
    assert len(held_out_cases()) == 20
    assert {case.kind for case in held_out_cases()} == set(kinds())
    for case in (*cases(), *held_out_cases()):
        # The screen without its secret must not look like a leak of it.
        assert leaks(case.secret, [("context", text) for text in case.masked()]) == [], case.name
        assert len(case.secret) >= 8


def test_no_rendered_secret_survives_ocr_and_ingest(store: MemoryStore, tmp_path: Path) -> None:
    pipeline = Pipeline(store, Settings())
    selected = small_cases()
    for index, case in enumerate(selected):
        image = tmp_path / f"{case.name}.png"
        render(case, STYLES[index % len(STYLES)]).save(image)
        outcome = ingest_image(
            pipeline,
            image,
            app=case.app,
            title=case.title,
            url=case.url,
            at=T0 + timedelta(seconds=10 * index),
        )
        assert outcome.ok, outcome.reason
        assert outcome.lines >= 1
    # A token in a window's title and URL is stored with the frame and the memories.
    browser = tmp_path / "browser.png"
    render(selected[0], STYLES[1]).save(browser)
    ingest_image(
        pipeline,
        browser,
        app="firefox",
        title=f"{TITLE_TOKEN} - Personal access tokens - GitHub — Mozilla Firefox",
        url=f"https://app.example.com/oauth/callback?access_token={URL_TOKEN}&state=7",
        at=T0 + timedelta(minutes=5),
    )
    finish(pipeline, T0 + timedelta(minutes=6))
    pipeline.close()

    texts = stored_texts(store)
    assert any(where.startswith("ocr_lines.") for where, _ in texts)
    assert any(where == "memories.body" for where, _ in texts)
    found = {
        case.name: [f"{leak.where}: {leak.run}" for leak in leaks(case.secret, texts)]
        for case in selected
    }
    found["title"] = [f"{leak.where}: {leak.run}" for leak in leaks(TITLE_TOKEN, texts)]
    found["url"] = [f"{leak.where}: {leak.run}" for leak in leaks(URL_TOKEN, texts)]
    assert {name: hits for name, hits in found.items() if hits} == {}
    # Redaction left its mark, and the screens' other words were kept.
    assert any("[REDACTED]" in text for where, text in texts if where == "ocr_lines.text")
    assert any("Visual Studio" in text or "Firefox" in text for _w, text in texts)


@pytest.mark.parametrize(
    "name", ["ho-password-mysql", "ho-aws-configure", "ho-iban-transfer", "ho-jwt-postman"]
)
def test_a_held_out_screen_leaks_nothing(name: str, store: MemoryStore, tmp_path: Path) -> None:
    # Contexts written after the rules (`held_out_cases`); MySQL's "-pPASSWORD"
    # leaked on every style before it had a rule.
    case = next(case for case in held_out_cases() if case.name == name)
    pipeline = Pipeline(store, Settings())
    image = tmp_path / "screen.png"
    render(case, STYLES[5]).save(image)
    ingest_image(pipeline, image, app=case.app, title=case.title, url=None, at=T0)
    finish(pipeline, T0 + timedelta(seconds=30))
    pipeline.close()
    texts = stored_texts(store)
    assert any(where == "memories.body" for where, _ in texts)
    assert leaks(case.secret, texts) == []


@pytest.mark.parametrize("name", ["secret-key-django", "iban-plain"])
def test_a_row_cut_into_pieces_is_redacted_as_one_row(
    name: str, store: MemoryStore, tmp_path: Path
) -> None:
    # Tesseract cuts these rows at their wide gaps into pieces (the Django
    # key's second piece even sorts before its first): only read as one row,
    # which the lines' boxes the pipeline passes allow, are they redacted whole.
    case = next(case for case in cases() if case.name == name)
    pipeline = Pipeline(store, Settings())
    image = tmp_path / "screen.png"
    render(case, STYLES[0]).save(image)
    ingest_image(pipeline, image, app=case.app, title=case.title, url=None, at=T0)
    finish(pipeline, T0 + timedelta(seconds=30))
    pipeline.close()
    assert leaks(case.secret, stored_texts(store)) == []


def test_without_redaction_the_same_screen_would_leak(
    store: MemoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check above can fail: with redaction switched off, the key is found.
    monkeypatch.setattr(Redactor, "redact_lines", lambda self, lines, boxes=None: (list(lines), 0))
    pipeline = Pipeline(store, Settings())
    case = small_cases()[0]
    image = tmp_path / "screen.png"
    render(case, STYLES[0]).save(image)
    ingest_image(pipeline, image, app=case.app, title=case.title, url=None, at=T0)
    finish(pipeline, T0 + timedelta(seconds=30))
    pipeline.close()
    assert leaks(case.secret, stored_texts(store))
