"""The composition of `run --no-ui`: consolidation only when a model is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirix_desktop.app.daemon_factory import (
    ConsolidationWork,
    build_daemon,
    consolidation_provider,
)
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths


def _settings(provider: str | None = None, *, enabled: bool = True) -> Settings:
    settings = Settings()
    if provider == "openai":
        settings.openai.model = "qwen2.5:0.5b"
    elif provider == "local":
        settings.local_model.model = "qwen2.5-0.5b"
    settings.consolidation.enabled = enabled
    return settings


@pytest.mark.parametrize(
    ("provider", "enabled", "measure"),
    [(None, True, None), ("openai", False, None), ("openai", True, "wall"), ("local", True, "cpu")],
)
def test_the_daemon_consolidates_only_with_a_model(
    tmp_path: Path, store: MemoryStore, provider: str | None, enabled: bool, measure: str | None
) -> None:
    settings = _settings(provider, enabled=enabled)
    daemon = build_daemon(resolve_paths(tmp_path / "data"), settings, store)
    try:
        work = daemon.idle_work
        if measure is None:
            assert work is None and consolidation_provider(settings) is None
        else:
            # The model's cost is CPU time for a local one, the wait for a remote one.
            assert isinstance(work, ConsolidationWork) and work.measure == measure
            assert consolidation_provider(settings) == provider
    finally:
        daemon.pipeline.close()


def test_no_model_at_the_first_idle_step_is_a_known_error(store: MemoryStore) -> None:
    work = ConsolidationWork(store, Settings(), lambda: None, measure="wall")
    with pytest.raises(KnownError, match="no language model is configured"):
        work.step()
    work.close()
