"""``maxbounds reproduce``: the figures of docs/reproduce.md, one module per figure.

Each figure module exposes ``compute(quick, seed, progress=None) -> dict``
(JSON-serialisable data with a ``"settings"`` entry), ``plot(data, path)``
and ``csv_rows(data)``; :data:`FIGURES` names them and :func:`reproduce`
writes ``<name>.png``, ``<name>.json`` and ``<name>.csv`` atomically.
"""

from .registry import FIGURES, Figure, figure, reproduce

__all__ = ["FIGURES", "Figure", "figure", "reproduce"]
