"""The local llama.cpp provider on a real (tiny, random-weight) GGUF.

Everything runs through llama.cpp: loading, the GGUF's chat template,
tokenizing, streaming. The model's words are gibberish; what is checked is
what a user would notice: answers stream and stop, bad files and long prompts
get a clear message, a slow answer times out with the text so far kept.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mirix_desktop.errors import LlmError, LlmTimeout, ModelFileError
from mirix_desktop.llm.base import ChatMessage, GenerationOptions
from mirix_desktop.llm.local_provider import LocalChatModel
from tests.helpers import tiny_gguf
from tests.helpers.tiny_gguf import write_tiny_llama_gguf

QUESTION = [
    ChatMessage("system", "You answer from the user's screen memory."),
    ChatMessage("user", "What was on my screen during the project meeting?"),
]
MARKER = "[[MIRIX-TEMPLATE]]"
MARKED_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if 'FORBIDDEN' in message['content'] %}"
    "{{ raise_exception('this template refuses FORBIDDEN') }}{% endif %}"
    f"{MARKER}{{{{ message['role'] }}}}: {{{{ message['content'] }}}}\n"
    "{% endfor %}"
    f"{MARKER}assistant:"
)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gguf")


@pytest.fixture(scope="session")
def tiny_path(models_dir: Path) -> Path:
    return write_tiny_llama_gguf(models_dir / "tiny.gguf")


@pytest.fixture(scope="session")
def marked_path(models_dir: Path) -> Path:
    return write_tiny_llama_gguf(models_dir / "marked.gguf", chat_template=MARKED_TEMPLATE)


@pytest.fixture
def model(tiny_path: Path) -> Iterator[LocalChatModel]:
    local = LocalChatModel(tiny_path)
    yield local
    local.close()


def answer(model: LocalChatModel, **options: Any) -> list[str]:
    return list(model.stream(QUESTION, GenerationOptions(**options)))


def test_streams_an_answer_in_chunks_and_stops_at_max_tokens(model: LocalChatModel) -> None:
    short = answer(model, max_tokens=8)
    longer = answer(model, max_tokens=32)
    assert 2 <= len(short) <= 8
    assert all(short) and "".join(short).strip()
    # The model had more to say: max_tokens is what stopped it.
    assert len(longer) > 8


def test_name_and_context(tiny_path: Path) -> None:
    local = LocalChatModel(tiny_path, context_tokens=4096)
    assert local.name == "local:tiny.gguf"
    # The tiny model was trained on 512 tokens: more would be garbage. The
    # header says so before loading, so the first prompt is built to fit.
    assert local.context_tokens == tiny_gguf.CONTEXT_LENGTH
    assert not local.is_loaded
    local.load()
    assert local.context_tokens == tiny_gguf.CONTEXT_LENGTH
    local.close()
    smaller = LocalChatModel(tiny_path, context_tokens=300)
    smaller.load()
    assert smaller.context_tokens == 300
    smaller.close()


def test_the_chat_template_in_the_gguf_is_applied(marked_path: Path) -> None:
    local = LocalChatModel(marked_path)
    prompt = local.format_prompt(QUESTION)
    assert prompt == (
        f"<s>{MARKER}system: {QUESTION[0].content}\n"
        f"{MARKER}user: {QUESTION[1].content}\n{MARKER}assistant:"
    )
    # The template also runs when answering: its own error reaches the user.
    with pytest.raises(LlmError, match="rejected the conversation: this template refuses"):
        list(local.stream([ChatMessage("user", "FORBIDDEN")], GenerationOptions()))
    local.close()


def test_the_template_shapes_what_the_model_reads(tiny_path: Path, marked_path: Path) -> None:
    # Same weights (same seed), same question, same sampling seed: only the
    # template differs, so different answers mean the template reached the model.
    chatml, marked = LocalChatModel(tiny_path), LocalChatModel(marked_path)
    options = {"max_tokens": 12, "temperature": 0.0}
    assert answer(chatml, **options) == answer(chatml, **options)
    assert answer(chatml, **options) != answer(marked, **options)
    chatml.close()
    marked.close()


def test_a_gguf_without_a_template_gets_chatml(models_dir: Path) -> None:
    path = write_tiny_llama_gguf(models_dir / "untemplated.gguf", chat_template=None)
    local = LocalChatModel(path)
    assert local.format_prompt([ChatMessage("user", "hi")]).endswith(
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
    assert answer(local, max_tokens=4)
    local.close()


def test_count_tokens_uses_the_model_tokenizer(model: LocalChatModel) -> None:
    assert model.count_tokens("") == 0
    one = model.count_tokens("meeting")
    assert one > 0
    assert model.count_tokens("meeting notes about the project window") > one
    # Byte fallback: text outside the vocabulary still tokenizes.
    assert model.count_tokens("Zürich ☕") >= len("Zürich ☕".encode())


def test_loading_is_lazy_and_can_run_in_the_background(tiny_path: Path) -> None:
    def loaded() -> bool:
        return local.is_loaded

    local = LocalChatModel(tiny_path)
    assert not loaded()
    thread = local.load_in_background()
    thread.join(timeout=30)
    assert loaded()
    assert answer(local, max_tokens=4)
    local.close()
    assert not loaded()
    # A closed model loads again when asked.
    assert answer(local, max_tokens=4)
    local.close()


def test_loading_and_answering_print_nothing(
    tiny_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    local = LocalChatModel(tiny_path, context_tokens=8192)
    answer(local, max_tokens=8)
    local.close()
    assert capfd.readouterr() == ("", "")


def test_a_missing_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "gone.gguf"
    local = LocalChatModel(path)  # lazy: nothing checked yet
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(path))}.*models list"):
        local.load()
    with pytest.raises(ModelFileError, match=re.escape(str(path))):
        answer(local)


@pytest.mark.parametrize(
    "content",
    [os.urandom(4096), b"GGUF" + os.urandom(4096), b""],
    ids=["random-bytes", "random-after-magic", "empty"],
)
def test_a_corrupt_file_names_the_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(path))} is corrupt or not a GGUF"):
        LocalChatModel(path).load()


def test_a_truncated_model_names_the_path_and_what_llama_cpp_found(
    tiny_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "truncated.gguf"
    path.write_bytes(tiny_path.read_bytes()[: tiny_path.stat().st_size // 2])
    with pytest.raises(ModelFileError) as caught:
        LocalChatModel(path).load()
    message = str(caught.value)
    assert f"{path} is corrupt or not a GGUF model" in message
    assert "corrupted or incomplete" in message  # llama.cpp's own diagnosis


def test_a_prompt_beyond_the_context_is_an_llm_error(tiny_path: Path) -> None:
    # 300: llama.cpp rounds its context up to 512; the provider keeps to 300.
    local = LocalChatModel(tiny_path, context_tokens=300)
    too_long = [ChatMessage("user", "the project meeting " * 200)]
    with pytest.raises(LlmError, match=r"the prompt has \d+ tokens and .* holds 300"):
        list(local.stream(too_long, GenerationOptions()))
    # The model is still usable, and a long answer stops where the context ends.
    assert answer(local, max_tokens=4)
    near_full = [ChatMessage("user", "the project meeting " * 66)]
    prompt_tokens = local.count_tokens(local.format_prompt(near_full))
    assert 200 < prompt_tokens < 300
    chunks = list(local.stream(near_full, GenerationOptions(max_tokens=500)))
    assert 0 < len(chunks) <= 300 - prompt_tokens
    local.close()


def test_a_timeout_keeps_the_text_so_far(model: LocalChatModel) -> None:
    model.load()
    # Long enough for the first chunk on a busy machine (about 50 ms on a quiet one).
    chunks = model.stream(QUESTION, GenerationOptions(max_tokens=64, timeout_s=2))
    received = [next(chunks)]
    threading.Event().wait(2.1)  # the reader is slow: the deadline passes
    with pytest.raises(LlmTimeout, match=r"did not finish within 2 s"):
        received.extend(chunks)
    assert received and received[0]


def test_no_time_at_all_is_a_timeout(model: LocalChatModel) -> None:
    with pytest.raises(LlmTimeout):
        answer(model, timeout_s=0.0)


def test_answers_from_two_threads_take_turns(model: LocalChatModel) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            results.append(answer(model, max_tokens=16))
        except LlmError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(results) == 3 and all(results)
