"""A tiny random-weight llama GGUF, written at test time for the local provider.

The model talks gibberish, but llama.cpp loads it like a real one: llama
architecture, a SentencePiece ("llama") tokenizer with byte fallback so any
text tokenizes, a chat template in `tokenizer.chat_template`. Tests exercise
the real loading, templating, tokenizing and streaming code on it in well
under a second, with nothing downloaded.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

# The shape: small enough to write and load in milliseconds (~300 KB in f16).
N_LAYERS = 2
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
N_FF = 128
HEAD_DIM = N_EMBD // N_HEAD
CONTEXT_LENGTH = 512

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
CONTROL_TOKENS = ["<|im_start|>", "<|im_end|>"]

CHATML_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# SentencePiece marks a word start with U+2581; the tokenizer merges adjacent
# pieces only into pieces in the vocab, so every prefix of a word is one too.
_SPACE = "\u2581"
_WORDS = (
    "the of and to in is it you that was for on are with as at be this have from or had by "
    "not but what all were when we there can an your which their said if do will each about "
    "how up out them then she many some so these would other into has more her two like him "
    "see time could no make than first been its who now people my made over did down only "
    "way find use may water long little very after words called just where most know screen "
    "memory window meeting email project note"
).split()


def _vocab() -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += CONTROL_TOKENS
    types += [gguf.TokenType.CONTROL] * len(CONTROL_TOKENS)
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces: dict[str, None] = {_SPACE: None}
    for char in "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-:":
        pieces[char] = None
        pieces[_SPACE + char] = None
    for word in _WORDS:
        for end in range(2, len(word) + 1):
            pieces[_SPACE + word[:end]] = None
            pieces[word[:end]] = None
    tokens += list(pieces)
    types += [gguf.TokenType.NORMAL] * len(pieces)
    # Longer pieces score higher, so merges run to whole words.
    scores = [
        0.0 if t != gguf.TokenType.NORMAL else -100.0 + len(tok)
        for tok, t in zip(tokens, types, strict=True)
    ]
    return tokens, scores, [int(t) for t in types]


def write_tiny_llama_gguf(
    path: Path, *, seed: int = 0, chat_template: str | None = CHATML_TEMPLATE
) -> Path:
    """Writes the model to `path` (no template key when `chat_template` is None)."""
    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocab()
    n_vocab = len(tokens)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("mirix-tiny-test")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYERS)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    def matrix(rows: int, cols: int, scale: float = 0.1) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float16)

    def norm() -> np.ndarray:
        return np.ones(N_EMBD, dtype=np.float32)

    # numpy shapes are (out, in): GGUF stores the dimensions reversed.
    writer.add_tensor("token_embd.weight", matrix(n_vocab, N_EMBD, 1.0))
    for i in range(N_LAYERS):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", norm())
        writer.add_tensor(f"blk.{i}.attn_q.weight", matrix(N_HEAD * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_k.weight", matrix(N_HEAD_KV * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_v.weight", matrix(N_HEAD_KV * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_output.weight", matrix(N_EMBD, N_HEAD * HEAD_DIM))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", norm())
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", matrix(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", matrix(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", matrix(N_EMBD, N_FF))
    writer.add_tensor("output_norm.weight", norm())
    output = matrix(n_vocab, N_EMBD, 0.3)
    # Control and byte tokens get a zero logit, far below the word pieces': the
    # model rarely ends early (EOS) and streams whole words, not stray bytes.
    output[np.array(types) != gguf.TokenType.NORMAL] = 0
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
