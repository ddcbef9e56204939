"""asv: the explicit, chain and convolutional samplers on the cases of :mod:`benchmarks.compare`, with peak memory."""

from maxbounds.simulate import chain_samples, conv_jacobian_samples, explicit_samples

from .cases import CASES, conv_inputs

SEED = 1
_DENSE = CASES["jacobian-w100-K5-L10"]
_CONV = CASES["conv-fig1"]


class Explicit:
    """Explicit networks, width 100, rank 5, depth 10."""

    timeout = 300

    def setup(self):
        self.x, self.u = _DENSE.inputs()
        explicit_samples(_DENSE.arch, self.x, self.u, 2, SEED)  # compile or load the cache

    def time_explicit_40(self):
        explicit_samples(_DENSE.arch, self.x, self.u, 40, SEED)

    def peakmem_explicit_40(self):
        explicit_samples(_DENSE.arch, self.x, self.u, 40, SEED)


class Chain:
    """The Gram chain, width 100, rank 5, depth 10."""

    params = [10**3, 10**5]
    param_names = ["samples"]

    def setup(self, samples):
        self.x, self.u = _DENSE.inputs()
        chain_samples(_DENSE.arch, self.x, self.u, 2, SEED)

    def time_chain(self, samples):
        chain_samples(_DENSE.arch, self.x, self.u, samples, SEED)

    def peakmem_chain(self, samples):
        chain_samples(_DENSE.arch, self.x, self.u, samples, SEED)


class Conv:
    """Convolutional networks of the paper's figure 1 shape."""

    timeout = 300

    def setup(self):
        self.x, self.u = conv_inputs(_CONV.arch)
        conv_jacobian_samples(_CONV.arch, self.x, self.u, 2, SEED)

    def time_conv_40(self):
        conv_jacobian_samples(_CONV.arch, self.x, self.u, 40, SEED)

    def peakmem_conv_40(self):
        conv_jacobian_samples(_CONV.arch, self.x, self.u, 40, SEED)
