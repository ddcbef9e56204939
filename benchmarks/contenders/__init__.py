"""What a user would otherwise write, and the random-number limits, for :mod:`benchmarks.compare`.

* :mod:`.numpy_loop`: the per-network NumPy loop of the authors' notebooks;
* :mod:`.torch_batched`: networks drawn and evaluated in batches with PyTorch (CPU);
* :mod:`.rng_limit`: the time to draw the simulators' random numbers alone;
* :mod:`.mpmath_quad`: the constants by plain ``mpmath.quad``;
* :mod:`.regions`: exact 2-D region counting and one linear program per region.

Every Jacobian contender returns the samples of :math:`\\lVert J_N(x)u\\rVert^2`
(one per random network) so the runner can check that all of them compute
the same law.
"""
