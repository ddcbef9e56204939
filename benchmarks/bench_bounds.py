"""asv: the Jacobian moment bounds of an architecture (MATH.md section 4)."""

from maxbounds.architecture import Architecture
from maxbounds.laws.jacobian import jacobian_moment_bounds


class JacobianBounds:
    params = [10, 100]
    param_names = ["depth"]

    def setup(self, depth):
        self.arch = Architecture.parse(f"100,100x{depth - 1},1", rank="5", c="1/M")
        jacobian_moment_bounds(self.arch)

    def time_moment_bounds(self, depth):
        jacobian_moment_bounds(self.arch, moments=(2.0, 0.5))
