"""asv: the default validation suite (``maxbounds validate``), each suite on its own."""

from maxbounds.validation.checks import run_suite, suite_names


class DefaultSuite:
    params = suite_names()
    param_names = ["suite"]
    timeout = 600
    number = 1
    repeat = 1
    warmup_time = 0

    def setup(self, suite):
        from maxbounds.validation import network

        network._samples.cache_clear()  # time the simulations, not the cache

    def time_run_suite(self, suite):
        run_suite([suite])

    def peakmem_run_suite(self, suite):
        run_suite([suite])
