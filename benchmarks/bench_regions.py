"""asv: exact 2-D region counting (skipped when :mod:`maxbounds.regions` is not installed)."""

from maxbounds.architecture import Architecture


class PlaneRegions:
    params = [2, 5]
    param_names = ["K"]
    timeout = 300

    def setup(self, K):
        try:
            from maxbounds.regions import Network, count_plane_regions
        except ImportError:
            raise NotImplementedError("maxbounds.regions is not available") from None
        self.count = count_plane_regions
        self.net = Network.random(Architecture.parse("2,20x3,2", rank=str(K)), 2021, index=0)
        self.count(self.net, box=(-3.0, 3.0))

    def time_count_plane_regions(self, K):
        self.count(self.net, box=(-3.0, 3.0))

    def peakmem_count_plane_regions(self, K):
        self.count(self.net, box=(-3.0, 3.0))
