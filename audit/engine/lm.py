"""`FastLM`: fm-audit's engine behind lm-eval's `LM` contract.

Tokenization follows lm-eval's HF backend (`HFLM`) wherever it decides a score: the
context/continuation split (lm-eval's own `TemplateLM` code), BOS handling (a string that
already starts with the BOS text is encoded without special tokens; otherwise the tokenizer's
default, or `add_bos_token` when given), left truncation to the model's maximum length, rolling
windows, stop sequences (`until` plus the end-of-text string), `max_gen_toks` (default 256) and
the post-processing of generated text. Only how the work is batched and computed differs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import jinja2
from lm_eval.api.instance import Instance
from lm_eval.api.model import TemplateLM
from lm_eval.models.utils import (
    DEFAULT_MAX_LENGTH,
    configure_pad_token,
    handle_stop_sequences,
    normalize_gen_kwargs,
    postprocess_generated_text,
    resolve_max_length,
)
from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

from audit.engine.batching import OomFallback
from audit.engine.forward import ModelRunner
from audit.engine.generation import GreedyGenerator, StopRule
from audit.engine.packed_scoring import PackedScorer, packing_works
from audit.engine.padded_scoring import PaddedScorer, Window
from audit.engine.settings import (
    NUMERICS_VERSION,
    EngineSettings,
    configure_cpu_threads,
    engine_numerics,
)
from audit.errors import AuditError

log = logging.getLogger(__name__)

DEFAULT_MAX_GEN_TOKS = 256
GREEDY_IGNORED = {"do_sample", "temperature", "top_p", "top_k"}


class UnsupportedGenerationError(AuditError):
    """A generation request asks for something other than greedy decoding."""


class FastLM(TemplateLM):
    """A loaded causal LM served with token-budget batching, shared-context reuse and
    continuous greedy generation."""

    def __init__(self, model: Any, tokenizer: Any, settings: EngineSettings,
                 add_bos_token: bool | None = None) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = configure_pad_token(tokenizer, model_config=model.config)
        self.settings = settings
        self.add_bos_token = add_bos_token
        if next(model.parameters()).device.type == "cpu":
            configure_cpu_threads()  # before any pass: the thread count is part of the numerics
        self.runner = ModelRunner(model, settings)
        self._device = self.runner.device
        self.fallback = OomFallback(settings.max_rows)
        self.max_length = resolve_max_length(model.config, self.tokenizer,
                                             default=DEFAULT_MAX_LENGTH)
        self.scorer = self._scorer()
        self.generator = GreedyGenerator(self.runner, self.fallback, self.tokenizer.pad_token_id,
                                         packed_prefill=isinstance(self.scorer, PackedScorer))
        warn_generation_config(model)

    def describe(self) -> dict[str, Any]:
        """How this engine computes its numbers, for run.json: its numerics version and full
        numerics identity (with the CPU thread count), which log-likelihood path it took, its
        device and batch limits, and module kinds whose products are not tiled (if any)."""
        untiled = self.runner.tiles.untiled if self.runner.tiles is not None else []
        return {"numerics_version": NUMERICS_VERSION, "numerics": engine_numerics(self._device),
                "device": str(self._device), "loglikelihood": self.scorer.description,
                "settings": asdict(self.settings), "untiled_modules": untiled}

    def _scorer(self) -> PackedScorer | PaddedScorer:
        """Packed, unpadded passes on CPU where the model's attention allows it; padded
        batches with a shared key/value cache elsewhere. Packing issues one small attention
        call per request and layer; it has not been measured on a GPU, so GPUs keep the padded
        path and the model's own fused attention."""
        if self._device.type == "cpu" and packing_works(self.runner):
            return PackedScorer(self.runner, self.fallback, self.max_length,
                                self.model.config.get_text_config(decoder=True).vocab_size)
        return PaddedScorer(self.runner, self.fallback,
                            Window(self.max_length, self._shared_limit()))

    def _shared_limit(self) -> int:
        """Longest context + continuation that may use the shared-context path. Models with
        sliding-window layers are kept to half the window, so that the padding gap between a
        context and its continuation can never push a visible token out of the window."""
        limit = self.max_length + 1
        config = self.model.config.get_text_config(decoder=True)
        window = getattr(config, "sliding_window", None)
        return min(limit, window // 2) if window else limit

    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def prefix_token_id(self) -> int:
        """The token that stands in for an empty context: BOS, else EOS (as lm-eval)."""
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else self.tokenizer.eos_token_id

    @property
    def tokenizer_name(self) -> str:
        """The tokenizer's name as lm-eval's chat-template code expects it."""
        return self.tokenizer.name_or_path.replace("/", "__")

    def _special_tokens(self, text: str, bos_text: str | None,
                        add_special_tokens: bool | None = None) -> dict[str, bool]:
        if add_special_tokens is not None:
            return {"add_special_tokens": add_special_tokens}
        if bos_text is not None and text.startswith(bos_text):
            return {"add_special_tokens": False}
        if self.add_bos_token is not None:
            return {"add_special_tokens": self.add_bos_token}
        return {}

    def tok_encode(self, string: str, add_special_tokens: bool | None = None,
                   **kwargs: Any) -> list[int]:
        """Token ids of `string`; no second BOS when the text already starts with one."""
        bos_text = self.tokenizer.decode(self.prefix_token_id)
        return self.tokenizer.encode(string,
                                     **self._special_tokens(string, bos_text, add_special_tokens))

    def _encode_prompt(self, prompt: str, max_tokens: int) -> list[int]:
        """A generation prompt as lm-eval encodes it (BOS judged on the BOS token's text),
        keeping its last `max_tokens` tokens."""
        ids = self.tokenizer(prompt, **self._special_tokens(prompt, self.tokenizer.bos_token)
                             )["input_ids"]
        if len(ids) > max_tokens:
            log.warning("Prompt of %d tokens left-truncated to its last %d", len(ids), max_tokens)
        return ids[-max_tokens:]

    def _loglikelihood_tokens(self, requests: list[tuple[Any, list[int], list[int]]],
                              disable_tqdm: bool = False, **kwargs: Any
                              ) -> list[tuple[float, bool]]:
        for _, context, continuation in requests:
            if not context or not continuation or len(continuation) > self.max_length:
                raise AuditError(
                    f"a log-likelihood request has an empty context or continuation, or a "
                    f"continuation longer than the model's {self.max_length} tokens",
                    fix="check the task's doc_to_text / doc_to_choice templates.")
        return self.scorer.score([(context, continuation)
                                  for _, context, continuation in requests])

    def loglikelihood_rolling(self, requests: list[Instance], disable_tqdm: bool = False
                              ) -> list[float]:
        """Log-likelihood of whole texts, in disjoint windows of the model's length."""
        windows: list[tuple[Any, list[int], list[int]]] = []
        owners: list[int] = []
        for index, request in enumerate(requests):
            tokens = self.tok_encode(request.args[0])
            for context, continuation in map(make_disjoint_window, get_rolling_token_windows(
                    token_list=tokens, prefix_token=self.prefix_token_id,
                    max_seq_len=self.max_length, context_len=1)):
                windows.append((None, context, continuation))
                owners.append(index)
        totals = [0.0] * len(requests)
        for owner, (logprob, _) in zip(owners, self._loglikelihood_tokens(windows), strict=True):
            totals[owner] += logprob
        return totals

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False
                       ) -> list[str]:
        """Greedy continuations, cut at the first stop sequence."""
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(repr(sorted(request.args[1].items())), []).append(index)
        results: list[str] = [""] * len(requests)
        eos_text = self.tokenizer.decode(self.eot_token_id, skip_special_tokens=False)
        for members in groups.values():
            kwargs = normalize_gen_kwargs(requests[members[0]].args[1], DEFAULT_MAX_GEN_TOKS)
            until = handle_stop_sequences(kwargs.pop("until", None), eos=eos_text)
            max_new = int(kwargs.pop("max_gen_toks"))
            check_greedy(kwargs)
            rule = StopRule(eos_ids=frozenset(eos_ids(self.model, self.tokenizer)),
                            strings=tuple(until), max_new_tokens=max_new,
                            decode=lambda ids: self.tokenizer.decode(ids))
            max_prompt = self.max_length - max_new
            if max_prompt <= 0:
                raise UnsupportedGenerationError(
                    f"max_gen_toks ({max_new}) leaves no room for a prompt in the model's "
                    f"{self.max_length} tokens", fix="lower max_gen_toks in the task.")
            prompts = [self._encode_prompt(requests[i].args[0], max_prompt) for i in members]
            for index, tokens in zip(members, self.generator.generate(prompts, rule),
                                     strict=True):
                text = self.tokenizer.decode(tokens, skip_special_tokens=True)
                results[index] = postprocess_generated_text(text, until, None)
        return results

    def apply_chat_template(self, chat_history: list[dict[str, str]],
                            add_generation_prompt: bool = True) -> str:
        """The chat as one prompt string; templates that reject a system turn get it dropped."""
        def render(history: list[dict[str, str]]) -> str:
            return self.tokenizer.apply_chat_template(
                history, tokenize=False, add_generation_prompt=add_generation_prompt,
                continue_final_message=not add_generation_prompt)
        try:
            return render(chat_history)
        except jinja2.exceptions.TemplateError:
            log.warning("The chat template rejected the conversation; retrying without the "
                        "system turn")
            return render([turn for turn in chat_history if turn["role"] != "system"])


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Token ids that end a generation: the model's generation config, else the tokenizer's."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if configured is None:
        configured = tokenizer.eos_token_id
    if configured is None:
        return set()
    return set(configured) if isinstance(configured, (list, tuple)) else {int(configured)}


def check_greedy(kwargs: dict[str, Any]) -> None:
    """Refuse sampling and decoding options this engine does not implement."""
    sampling = kwargs.get("do_sample") or float(kwargs.get("temperature") or 0.0) > 0.0
    unknown = sorted(set(kwargs) - GREEDY_IGNORED)
    if sampling or unknown:
        raise UnsupportedGenerationError(
            f"the engine decodes greedily; the task asks for {kwargs}",
            fix="set do_sample: false (or temperature: 0) in the task's generation_kwargs and "
                "remove other decoding options.")


def warn_generation_config(model: Any) -> None:
    """Say so when the model's generation config would alter greedy decoding under HF
    `generate` (the engine does not apply these processors)."""
    config = getattr(model, "generation_config", None)
    altered = {name: getattr(config, name, None) for name in
               ("repetition_penalty", "no_repeat_ngram_size", "bad_words_ids", "min_length",
                "min_new_tokens", "suppress_tokens")}
    active = {k: v for k, v in altered.items() if v not in (None, 0, 1.0, [])}
    if active:
        log.warning("The model's generation config sets %s; fm-audit's engine ignores these "
                    "and decodes plain greedy", active)
