"""One shape of machine-readable output: the envelope, the architecture and the estimate of every JSON document.

Every ``--format json`` of the command line and every JSON file it writes
(``reproduce``'s ``FIGURE.json``) is one JSON object (never a bare array) of
the documented, versioned schema ``maxbounds-output`` (``output_schema.json``
beside this module; docs/json.md describes it):

* ``"schema": "maxbounds-output"``, ``"schema_version": 1`` and ``"command"``
  (the subcommand, e.g. ``"bounds jacobian"``, ``"validate"``,
  ``"regions count"``) come first;
* ``"architecture"``, where the document is about one network, is an object
  (:func:`architecture_json`): ``description`` (the one-line summary the tables
  print), ``widths``, and for a random architecture ``ranks``, ``c``
  (numbers), ``c_rule`` (``"1/M"``, ``"1/L"``, ``"1/S"`` where ``c`` was given
  by name, ``null`` where as a number), ``c_out``,
  ``bias_var`` and ``conv``;
* a Monte Carlo value is an estimate object :func:`estimate_json`
  ``{"mean", "stderr", "n"}`` (``stderr`` is ``null`` for one exact count);
* ``passed`` is always a boolean; counts of checks sit in ``"counts"``;
* a value outside the double range is ``null`` beside a finite
  ``"log10_<key>"`` (see :mod:`maxbounds.cli.bounds_cmd`), a non-finite one
  ``null`` beside ``"<key>_nonfinite"`` (see :mod:`maxbounds.report.json`).

:func:`check` validates a document against the schema (it needs the optional
``jsonschema`` package, part of the ``test`` extra).
"""

from __future__ import annotations

import functools
import json
import math
import os

from .json import dumps

__all__ = ["SCHEMA_NAME", "SCHEMA_VERSION", "architecture_json", "check", "close_rows", "document", "estimate_json",
           "open_rows", "payload", "row_lines", "schema", "write"]

#: Name and version of the output schema; the version grows when a key changes meaning or shape.
SCHEMA_NAME = "maxbounds-output"
SCHEMA_VERSION = 1

_SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "output_schema.json")


def architecture_json(model, **extra) -> dict:
    """The ``architecture`` object of a document, for an :class:`~maxbounds.Architecture` or an explicit network.

    An architecture gives every per-layer list (``ranks`` of the ``L - 1``
    hidden layers; ``c`` and ``c_rule`` of the hidden layers; ``bias_var`` of
    all ``L`` layers); an explicit network (``regions count --weights``, the
    layer networks of ``bounds lognorm``) gives what it has: ``description``,
    ``widths`` and, where known, ``ranks``.  ``extra`` keys (``activation``,
    ``source``) are added as they are.
    """
    from ..architecture import Architecture

    description = extra.pop("description", None)
    out = {"description": description if description is not None else model.describe(),
           "widths": [int(n) for n in model.widths]}
    if isinstance(model, Architecture):
        out.update({
            "ranks": [int(K) for K in model.ranks],
            "c": [float(c) for c in model.c],
            "c_rule": list(model.c_rules),
            "c_out": float(model.c_out),
            "bias_var": [float(b) for b in model.bias_var],
            "conv": None if model.conv is None else {
                "channels": list(model.conv.channels), "image": list(model.conv.image),
                "kernel_size": list(model.conv.kernel_size)},
        })
    elif hasattr(model, "ranks"):
        out["ranks"] = [int(K) for K in model.ranks]
    out.update(extra)
    return out


def estimate_json(mean, stderr, n) -> dict:
    """``{"mean", "stderr", "n"}`` of a Monte Carlo value; ``stderr`` ``None`` when it is not defined (``n = 1``)."""
    se = None if stderr is None or (isinstance(stderr, float) and math.isnan(stderr)) else float(stderr)
    return {"mean": mean, "stderr": se, "n": int(n)}


def document(command: str, payload: dict, architecture=None) -> dict:
    """The envelope ``{schema, schema_version, command[, architecture], **payload}`` of one output.

    ``architecture`` is a model (turned into :func:`architecture_json`) or an
    already built architecture object; a key of ``payload`` may not repeat
    the envelope's.
    """
    head = {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION, "command": command}
    if architecture is not None:
        head["architecture"] = architecture if isinstance(architecture, dict) else architecture_json(architecture)
    clash = set(head) & set(payload)
    if clash:
        raise ValueError(f"the payload repeats the envelope's keys {sorted(clash)}")
    return {**head, **payload}


def payload(doc: dict) -> dict:
    """``doc`` without its envelope keys (``schema``, ``schema_version``, ``command``; ``architecture`` is kept)."""
    return {k: v for k, v in doc.items() if k not in ("schema", "schema_version", "command")}


def write(stream, command: str, payload: dict, architecture=None) -> None:
    """Write :func:`document` to ``stream`` as indented JSON, with a final newline."""
    stream.write(dumps(document(command, payload, architecture), indent=2) + "\n")


def open_rows(command: str, payload: dict, architecture=None) -> str:
    """The start of a streamed document whose last key is ``"rows"``: write :func:`row_lines`, then :func:`close_rows`.

    A long table (``constants --rank 2-1000000``) is written in chunks as it
    is computed; the document is the same as :func:`document` with
    ``{"rows": [...]}`` appended to ``payload``.
    """
    head = dumps(document(command, {**payload, "rows": []}, architecture), indent=2)
    return head[: head.rindex("[")] + "[\n"


def row_lines(rows: list, first: bool) -> str:
    """Rows of a streamed document, one JSON object per line (a comma before all but the very first)."""
    text = ",\n".join("    " + dumps(row, indent=None) for row in rows)
    return text if first or not text else ",\n" + text


def close_rows() -> str:
    """The end of a streamed document."""
    return "\n  ]\n}\n"


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    with open(_SCHEMA_FILE, encoding="utf-8") as handle:
        return handle.read()


def schema() -> dict:
    """The output schema (JSON Schema draft 2020-12) as a dict."""
    return json.loads(_schema_text())


def check(doc) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``doc`` (a dict or a JSON text) follows the output schema."""
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - the test extra installs it
        raise ImportError("maxbounds.report.output.check needs the jsonschema package "
                          "(pip install 'maxbounds[test]')") from None
    if isinstance(doc, str):
        doc = json.loads(doc)
    jsonschema.Draft202012Validator(schema()).validate(doc)
