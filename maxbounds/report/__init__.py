"""Rendering results for people: text tables, Markdown, CSV, JSON and LaTeX."""

from .formats import FORMATS, render

__all__ = ["FORMATS", "render"]
