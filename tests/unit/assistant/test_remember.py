"""Recognising "remember that ..." and where the fact goes."""

from datetime import UTC, datetime

import pytest

from mirix_desktop.assistant.remember import memory_for_fact, remembered_fact
from mirix_desktop.memory.records import MemoryType

AT = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "fact"),
    [
        ("remember that I prefer metric units", "I prefer metric units"),
        ("Remember: my manager is Dana.", "my manager is Dana"),
        ("please remember that the VPN code is on the badge", "the VPN code is on the badge"),
        ("Note that the staging server is staging-3", "the staging server is staging-3"),
        ("remember when I opened the budget?", None),
        ("do you remember what Dana said?", None),
        ("what did I read yesterday?", None),
        ("remember that?", None),
    ],
)
def test_remembered_fact(message: str, fact: str | None) -> None:
    assert remembered_fact(message) == fact


def test_facts_about_the_user_are_core_others_semantic() -> None:
    assert memory_for_fact("I prefer metric units", AT).memory_type is MemoryType.CORE
    assert memory_for_fact("my manager is Dana", AT).memory_type is MemoryType.CORE
    semantic = memory_for_fact("the staging server is staging-3", AT)
    assert semantic.memory_type is MemoryType.SEMANTIC
