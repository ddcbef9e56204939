"""Laws and bounds of randomly initialised maxout networks (MATH.md sections 3-5, 7)."""
