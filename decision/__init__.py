"""CertStrategy: certificate cost and strategy decisions for Exchange and similar servers."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["LABELS", "OPTIONS", "Evaluation", "InputError", "Issue", "__version__", "evaluate"]
_WHERE = {"Evaluation": "decision.engine", "evaluate": "decision.engine", "InputError": "decision.errors",
          "Issue": "decision.errors", "LABELS": "decision.options", "OPTIONS": "decision.options"}


def __getattr__(name: str) -> Any:
    """The public names, imported when first used: `python -m decision` starts without the engine, so Ctrl-C at
    once reaches the command line, which ends quietly, and `--help` answers at once."""
    if name not in _WHERE:
        raise AttributeError(f"module 'decision' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
