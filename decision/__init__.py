"""CertStrategy: certificate cost and strategy decisions for Exchange and similar servers."""

from decision.engine import ENGINE_VERSION, Evaluation, evaluate
from decision.errors import InputError, Issue
from decision.options import LABELS, OPTIONS

__version__ = ENGINE_VERSION
__all__ = ["LABELS", "OPTIONS", "Evaluation", "InputError", "Issue", "__version__", "evaluate"]
