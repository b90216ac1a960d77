"""Keep the terminal to what matters: third-party progress bars and chatter off unless --verbose.

The libraries an audit drives (datasets, transformers, lm-eval, CodeCarbon, pip) each print
their own bars and logs ("Generating test split", "Map", "Loading weights", download logs).
They read most of their switches from environment variables when first imported, so
`silence_third_party` must run before they are; a variable the user set is left as it is.
"""

from __future__ import annotations

import logging
import os

# Environment switches read by the libraries themselves when imported.
QUIET_ENVIRONMENT = {
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # datasets: "Generating ... split", "Map"
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # huggingface_hub and transformers ("Loading weights")
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "TQDM_DISABLE": "1",  # any other tqdm bar whose caller leaves `disable` unset (lm-eval)
    "TOKENIZERS_PARALLELISM": "false",  # the fork warning of the tokenizers library
}
# Loggers of third-party libraries that only show warnings and errors unless --verbose.
NOISY_LOGGERS = ("lm_eval", "transformers", "datasets", "codecarbon", "httpx", "urllib3",
                 "huggingface_hub", "filelock", "fsspec")


def silence_third_party(verbose: bool) -> None:
    """Turn third-party progress bars and info logs off (unless `verbose`), so an audit's
    terminal shows its own progress lines and summary; with `verbose` bars and info logs
    are shown (their debug logs stay off: they would bury the audit's own)."""
    if not verbose:
        for name, value in QUIET_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


def verbose_logging() -> bool:
    """Whether the user asked for everything (`--verbose`): the `audit` logger at DEBUG."""
    return logging.getLogger("audit").isEnabledFor(logging.DEBUG)
