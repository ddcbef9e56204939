"""PyTorch is an optional dependency: import it with a one-line error that says how to install it."""

from __future__ import annotations

from .._validate import MaxboundsValueError

INSTALL_HINT = 'pip install "maxbounds[torch]" (or pip install torch)'


def require_torch():
    """The ``torch`` module, or a :class:`MaxboundsValueError` naming ``torch`` if it is not installed."""
    try:
        import torch
    except ImportError:
        raise MaxboundsValueError("torch", f"PyTorch is not installed; {INSTALL_HINT}") from None
    return torch
