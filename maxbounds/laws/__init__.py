"""Laws and bounds of randomly initialised maxout networks (docs/exact_laws.md, docs/bounds.md)."""
