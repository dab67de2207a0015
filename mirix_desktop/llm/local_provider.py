"""A `ChatModel` running a GGUF file in-process with llama.cpp (llama-cpp-python).

This module owns the local model's life: checking the file, loading it lazily
(once, from any thread, so the GUI can preload in the background), applying
the chat template stored in the GGUF, streaming under a deadline, and turning
every llama.cpp failure into an `LlmError` that names the file.

llama.cpp quirks handled here:
- Its log goes through one process-wide callback. llama-cpp-python's own
  callback misreads the log levels (warnings reach stderr even when quiet), so
  this module installs one that routes lines to the `mirix.llm.llama_cpp`
  logger and keeps a loading thread's error lines for the `ModelFileError`.
- Loading with `verbose=False` points the process's stderr at /dev/null while
  the file is read; loads are serialised so two of them cannot leave it there.
- llama.cpp rounds n_ctx up to a multiple of 256, while llama-cpp-python sizes
  its token buffer by the n_ctx asked for; asking for a multiple of 256 keeps
  the two equal. The context the caller may fill is still the configured one
  (capped at the model's trained context), and `stream` enforces it.
- The chat template is applied by a handler built here from the GGUF's
  `tokenizer.chat_template` (chatml when there is none), so the prompt counted
  and the prompt generated from are the same text.
- The deadline is checked between tokens; llama.cpp cannot be interrupted
  while it reads the prompt, so a long prompt on a slow CPU can overrun it by
  that time.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

import jinja2
import llama_cpp
import psutil
from llama_cpp import llama_chat_format

from mirix_desktop.errors import LlmError, LlmTimeout, ModelFileError
from mirix_desktop.llm.base import ChatMessage, GenerationOptions

log = logging.getLogger("mirix.llm.local")
native_log = logging.getLogger("mirix.llm.llama_cpp")

GGUF_MAGIC = b"GGUF"
# llama.cpp pads every context to this many tokens.
_CTX_PAD = 256
_MODELS_HINT = (
    "`mirix-desktop models list` shows the models you can download with "
    "`mirix-desktop models pull NAME`"
)


def physical_cores() -> int:
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


class LocalChatModel:
    """A GGUF model loaded into this process on first use."""

    def __init__(
        self,
        model_path: Path,
        *,
        context_tokens: int = 4096,
        threads: int = 0,
        gpu_layers: int = 0,
    ) -> None:
        self._path = Path(model_path)
        self._requested_context = context_tokens
        self._threads = threads or physical_cores()
        self._gpu_layers = gpu_layers
        self._llama: llama_cpp.Llama | None = None
        self._formatter: llama_chat_format.ChatFormatter | None = None
        self._context = context_tokens
        self._load_lock = threading.Lock()
        # A llama.cpp context serves one generation at a time.
        self._generate_lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"local:{self._path.name}"

    @property
    def path(self) -> Path:
        return self._path

    @property
    def context_tokens(self) -> int:
        """The configured context, capped at the model's trained context.

        Before loading, the trained context comes from the GGUF header (cheap),
        so a prompt built before the first load already fits.
        """
        if self._llama is None and self._context == self._requested_context:
            try:
                trained = _check_file(self._path)
            except ModelFileError:
                trained = None  # loading will report it, with the path
            if trained:
                self._context = min(self._requested_context, trained)
        return self._context

    @property
    def is_loaded(self) -> bool:
        return self._llama is not None

    def load(self) -> None:
        """Loads the model unless loaded; blocks while another thread loads it."""
        self._loaded()

    def load_in_background(self) -> threading.Thread:
        """Starts loading on a daemon thread; failures are logged and raised again by `stream`."""
        thread = threading.Thread(
            target=self._load_logging_failure, name=f"load {self._path.name}", daemon=True
        )
        thread.start()
        return thread

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        llama, _ = self._loaded()
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def format_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The text the model reads for `messages`: the chat template applied."""
        _, formatter = self._loaded()
        return self._render(formatter, messages).prompt

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        deadline = time.monotonic() + options.timeout_s
        if not self._generate_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise LlmTimeout(
                f"{self.name} was busy with another answer for {options.timeout_s:g} s"
            )
        try:
            # Loaded under the lock: close() cannot free the model mid-answer.
            llama, formatter = self._loaded()
            rendered = self._render(formatter, messages)
            prompt_tokens = len(
                llama.tokenize(
                    rendered.prompt.encode("utf-8"),
                    add_bos=not rendered.added_special,
                    special=True,
                )
            )
            room = self._context - prompt_tokens
            if room <= 0:
                raise LlmError(
                    f"the prompt has {prompt_tokens} tokens and {self.name} holds "
                    f"{self._context}; shorten the question or raise local_model.context_tokens"
                )
            # llama-cpp-python caps the answer at its own n_ctx, which may exceed ours.
            max_tokens = min(options.max_tokens, room) if options.max_tokens > 0 else room
            yield from self._generate(llama, messages, options, max_tokens, deadline)
        finally:
            self._generate_lock.release()

    def close(self) -> None:
        """Frees the model (after any running answer); a later call loads it again."""
        with self._generate_lock, self._load_lock:
            if self._llama is not None:
                self._llama.close()
            self._llama = None
            self._formatter = None

    # -- generation --

    def _generate(
        self,
        llama: llama_cpp.Llama,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        max_tokens: int,
        deadline: float,
    ) -> Iterator[str]:
        if time.monotonic() > deadline:
            raise LlmTimeout(f"{self.name} did not start answering within {options.timeout_s:g} s")
        started = time.monotonic()
        produced = 0
        try:
            response = llama.create_chat_completion(
                messages=[_request_message(m) for m in messages],
                stream=True,
                max_tokens=max_tokens,
                temperature=options.temperature,
            )
            chunks = cast(Generator[dict[str, Any], None, None], response)
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    text = choice["delta"].get("content")
                    if text:
                        produced += 1
                        yield text
                    if choice["finish_reason"] is None and time.monotonic() > deadline:
                        raise LlmTimeout(
                            f"{self.name} did not finish within {options.timeout_s:g} s"
                        )
            finally:
                # Stops generating when the caller stops reading or time is up.
                chunks.close()
        except ValueError as exc:
            # The prompt was measured above; this is llama-cpp-python's own guard.
            raise LlmError(f"{self.name} could not take the prompt: {exc}") from exc
        except RuntimeError as exc:
            raise LlmError(f"llama.cpp failed while answering with {self.name}: {exc}") from exc
        elapsed = time.monotonic() - started
        log.debug("%s: %d chunks in %.2f s", self.name, produced, elapsed)

    def _render(
        self, formatter: llama_chat_format.ChatFormatter, messages: Sequence[ChatMessage]
    ) -> llama_chat_format.ChatFormatterResponse:
        try:
            return formatter(messages=[_request_message(m) for m in messages])
        except (ValueError, jinja2.TemplateError) as exc:
            # Templates reject conversations they cannot express (e.g. roles not alternating).
            raise LlmError(
                f"the chat template of {self.name} rejected the conversation: {exc}"
            ) from exc

    # -- loading --

    def _load_logging_failure(self) -> None:
        try:
            self._loaded()
        except LlmError as exc:
            log.warning("background load of %s failed: %s", self._path, exc)

    def _loaded(self) -> tuple[llama_cpp.Llama, llama_chat_format.ChatFormatter]:
        llama, formatter = self._llama, self._formatter
        if llama is not None and formatter is not None:
            return llama, formatter
        with self._load_lock:
            if self._llama is None or self._formatter is None:
                self._load_locked()
            assert self._llama is not None and self._formatter is not None
            return self._llama, self._formatter

    def _load_locked(self) -> None:
        path = self._path
        trained = _check_file(path)
        wanted = min(self._requested_context, trained or self._requested_context)
        started = time.monotonic()
        with _NATIVE_LOAD_LOCK:
            _route_native_log()
            _native.start_capture()
            try:
                llama = llama_cpp.Llama(
                    str(path),
                    n_ctx=-(-wanted // _CTX_PAD) * _CTX_PAD,
                    n_threads=self._threads,
                    n_threads_batch=self._threads,
                    n_gpu_layers=self._gpu_layers,
                    verbose=False,
                )
            except ValueError as exc:
                detail = _native.error_text() or str(exc)
                if "load model" in str(exc) or "vocab" in str(exc):
                    raise ModelFileError(
                        f"{path} is corrupt or not a GGUF model llama.cpp can load ({detail}); "
                        f"download it again or pick another: {_MODELS_HINT}"
                    ) from exc
                raise LlmError(
                    f"llama.cpp could not set up {path.name} with a {wanted}-token context "
                    f"({detail}); try a smaller local_model.context_tokens"
                ) from exc
            finally:
                _native.stop_capture()
        self._context = min(wanted, llama.n_ctx())
        self._formatter = self._formatter_for(llama)
        self._llama = llama
        log.info(
            "loaded %s in %.2f s: %d-token context, %d threads",
            path.name,
            time.monotonic() - started,
            self._context,
            self._threads,
        )

    def _formatter_for(self, llama: llama_cpp.Llama) -> llama_chat_format.ChatFormatter:
        template = llama.metadata.get("tokenizer.chat_template")
        formatter: llama_chat_format.ChatFormatter = llama_chat_format.format_chatml
        if template:
            try:
                formatter = llama_chat_format.Jinja2ChatFormatter(
                    template=template,
                    eos_token=_token_text(llama, llama.token_eos()),
                    bos_token=_token_text(llama, llama.token_bos()),
                    stop_token_ids=[llama.token_eos()],
                )
            except jinja2.TemplateError as exc:
                log.warning("%s: its chat template is broken (%s); using chatml", self.name, exc)
        else:
            log.info("%s has no chat template; using chatml", self.name)
        # create_chat_completion prefers an explicit handler over its own choice.
        llama.chat_handler = llama_chat_format.chat_formatter_to_chat_completion_handler(formatter)
        return formatter


def _request_message(message: ChatMessage) -> Any:
    return {"role": message.role, "content": message.content}


def _token_text(llama: llama_cpp.Llama, token: int) -> str:
    if token < 0:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="replace")


def _check_file(path: Path) -> int | None:
    """Raises ModelFileError unless `path` looks like a GGUF; returns its trained context."""
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file; {_MODELS_HINT}")
    try:
        with path.open("rb") as file:
            if file.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
                raise ModelFileError(
                    f"{path} is corrupt or not a GGUF model (it does not start with 'GGUF'); "
                    f"{_MODELS_HINT}"
                )
            return _trained_context(file)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file: {exc.strerror or exc}") from exc


# GGUF value types with a fixed size, by type id (spec: ggml/docs/gguf.md).
_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_UINTS = {0: "<B", 2: "<H", 4: "<I", 10: "<Q"}
_MAX_STRING = 1 << 24


def _trained_context(file: Any) -> int | None:
    """`<arch>.context_length` from a GGUF header (after the magic), or None if unreadable.

    llama.cpp knows it only after loading, when the context is already made;
    converters write it near the top, before the vocabulary.
    """

    def read(fmt: str) -> int:
        size = struct.calcsize(fmt)
        data = file.read(size)
        if len(data) != size:
            raise EOFError
        return int(struct.unpack(fmt, data)[0])

    def read_string() -> bytes:
        length = read("<Q")
        if length > _MAX_STRING:
            raise EOFError
        data: bytes = file.read(length)
        return data

    def skip(value_type: int) -> None:
        if value_type == _STRING:
            file.seek(read("<Q"), os.SEEK_CUR)
        elif value_type == _ARRAY:
            item_type, count = read("<I"), read("<Q")
            if item_type in _FIXED_SIZES:
                file.seek(_FIXED_SIZES[item_type] * count, os.SEEK_CUR)
            else:
                for _ in range(count):
                    skip(item_type)
        elif value_type in _FIXED_SIZES:
            file.seek(_FIXED_SIZES[value_type], os.SEEK_CUR)
        else:
            raise EOFError

    try:
        if read("<I") not in (2, 3):
            return None
        read("<Q")  # tensor count
        architecture = b""
        lengths: dict[bytes, int] = {}
        for _ in range(read("<Q")):
            key, value_type = read_string(), read("<I")
            if key == b"general.architecture" and value_type == _STRING:
                architecture = read_string()
            elif key.endswith(b".context_length") and value_type in _UINTS:
                lengths[key] = read(_UINTS[value_type])
            else:
                skip(value_type)
            if architecture and architecture + b".context_length" in lengths:
                return lengths[architecture + b".context_length"] or None
    except (EOFError, struct.error):
        return None
    return None


class _NativeLog:
    """llama.cpp's log lines, to a logger; a loading thread's lines are held back.

    Held back because the load runs with stderr pointed at /dev/null (a log
    handler writing there would lose them), and because error lines belong in
    the ModelFileError, not the log.
    """

    # ggml_log_level: NONE, DEBUG, INFO, WARN, ERROR, CONT (continues the last line).
    _LEVELS: ClassVar[dict[int, int]] = {
        0: logging.DEBUG,
        1: logging.DEBUG,
        2: logging.DEBUG,
        3: logging.WARNING,
    }
    _ERROR, _CONT = 4, 5

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, level: int, text: bytes | None, _user_data: Any) -> None:
        # An exception escaping a ctypes callback is printed to stderr: never raise.
        with contextlib.suppress(Exception):
            self._receive(level, (text or b"").decode("utf-8", errors="replace"))

    def _receive(self, level: int, text: str) -> None:
        local = self._local
        if level != self._CONT:
            local.level = level
        local.partial = getattr(local, "partial", "") + text
        if not local.partial.endswith("\n"):
            return
        line, local.partial = local.partial.strip(), ""
        if not line:
            return
        line_level: int = getattr(local, "level", 0)
        held: list[tuple[int, str]] | None = getattr(local, "held", None)
        if held is not None:
            held.append((line_level, line))
        else:
            self._emit(line_level, line)

    def _emit(self, level: int, line: str) -> None:
        native_log.log(self._LEVELS.get(level, logging.ERROR), "%s", line)

    def start_capture(self) -> None:
        self._local.held = []
        self._local.errors = []

    def stop_capture(self) -> None:
        held: list[tuple[int, str]] = getattr(self._local, "held", None) or []
        self._local.held = None
        for level, line in held:
            if level == self._ERROR:
                native_log.debug("%s", line)
            else:
                self._emit(level, line)

    def error_text(self) -> str:
        """The most specific error line llama.cpp logged during this thread's load."""
        held: list[tuple[int, str]] = getattr(self._local, "held", None) or []
        errors = [line for level, line in held if level == self._ERROR]
        specific = [line for line in errors if "failed to load model" not in line]
        if not (specific or errors):
            return ""
        # "llama_model_load: error loading model: tensor ..." -> "tensor ..."
        line = _FUNCTION_PREFIX.sub("", (specific or errors)[0])
        return _FUNCTION_PREFIX.sub("", line.removeprefix("error loading model: "))


_FUNCTION_PREFIX = re.compile(r"^\w+: ")
_native = _NativeLog()
_native_callback = llama_cpp.llama_log_callback(_native)
_native_routed = False
# One load at a time in the process: each swaps the process's stderr.
_NATIVE_LOAD_LOCK = threading.Lock()


def _route_native_log() -> None:
    global _native_routed
    if not _native_routed:
        llama_cpp.llama_log_set(_native_callback, ctypes.c_void_p(0))
        _native_routed = True
