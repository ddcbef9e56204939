"""Exact 2-D region counts at every scale: tiny genuine regions, degenerate arrangements, exact predicates.

The independent reference is the face count of a line arrangement in rational arithmetic: the activation
regions of a network with one hidden layer (ReLU or rank-2 maxout) in its input plane are the faces of the
arrangement of its units' lines, and ``faces = 1 + (distinct lines meeting the open box) + sum over
intersection points p inside the open box of (lines through p - 1)`` (adding one line cuts as many faces as
it has pieces), which holds for concurrent lines, lines through corners and parallel lines alike.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from maxbounds.architecture import Architecture
from maxbounds.regions import Network, count_plane_regions, lp_count_plane_regions, plane_partition
from maxbounds.regions import _plane_kernel as kernel
from maxbounds.regions.plane import plane_error_bound

BOX = (-1.0, 1.0)
AREAS = [1e-3, 1e-6, 1e-9, 1e-12, 1e-15]


# ---------------------------------------------------------------------------
# the reference: faces of a line arrangement, in Fractions
# ---------------------------------------------------------------------------
def _canonical(line):
    """The line ``a x + b y + c = 0`` scaled so that its first non-zero of ``a, b`` is 1 (None if constant)."""
    a, b, c = line
    lead = a if a != 0 else b
    if lead == 0:
        return None
    return (a / lead, b / lead, c / lead)


def arrangement_faces(lines, box=BOX):
    """Faces of the arrangement of ``lines`` (triples of Fractions) in the open square ``box``, exactly."""
    lo, hi = Fraction(box[0]), Fraction(box[1])
    corners = [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]
    distinct = []
    for line in lines:
        line = _canonical(line)
        if line is None or line in distinct:
            continue
        values = [line[0] * x + line[1] * y + line[2] for x, y in corners]
        if min(values) < 0 < max(values):
            distinct.append(line)
    points = {}
    for i in range(len(distinct)):
        for j in range(i + 1, len(distinct)):
            (a1, b1, c1), (a2, b2, c2) = distinct[i], distinct[j]
            d = a1 * b2 - a2 * b1
            if d == 0:
                continue
            p = ((b1 * c2 - b2 * c1) / d, (c1 * a2 - c2 * a1) / d)
            if lo < p[0] < hi and lo < p[1] < hi:
                points.setdefault(p, set()).update((i, j))
    return 1 + len(distinct) + sum(len(through) - 1 for through in points.values())


def _relu_net(lines):
    """A 2-n-1 ReLU network whose unit ``i`` is ``max(a_i x + b_i y + c_i, 0)``."""
    lines = np.asarray(lines, dtype=float)
    W = np.zeros((len(lines), 2, 2))
    b = np.zeros((len(lines), 2))
    W[:, 0], b[:, 0] = lines[:, :2], lines[:, 2]
    return Network([(W, b), (np.ones((1, len(lines))), np.zeros(1))])


def _maxout_net(lines, rng):
    """A 2-n-1 rank-2 maxout network whose unit ``i`` has the line ``zeta_0 - zeta_1 = line_i`` (plus rounding)."""
    lines = np.asarray(lines, dtype=float)
    other = rng.normal(size=(len(lines), 3))
    W = np.stack([lines[:, :2] + other[:, :2], other[:, :2]], axis=1)
    b = np.stack([lines[:, 2] + other[:, 2], other[:, 2]], axis=1)
    return Network([(W, b), (np.ones((1, len(lines))), np.zeros(1))])


def _unit_lines(net):
    """The exact lines ``zeta_0 - zeta_1`` of the units of a one-hidden-layer rank-2 network, as Fractions."""
    W, b = net.layers[0]
    return [tuple(Fraction(float(W[i, 0, r])) - Fraction(float(W[i, 1, r])) for r in range(2))
            + (Fraction(float(b[i, 0])) - Fraction(float(b[i, 1])),) for i in range(W.shape[0])]


def _triangle(area, rng):
    """Three lines bounding an equilateral triangle of ``area`` times the box's area, at a random place."""
    r = math.sqrt(area * (BOX[1] - BOX[0]) ** 2 / (3 * math.sqrt(3)))
    centre = rng.uniform(-0.7, 0.7, size=2)
    theta = rng.uniform(0, 2 * math.pi) + np.array([0, 2 * math.pi / 3, 4 * math.pi / 3])
    normals = np.column_stack([np.cos(theta), np.sin(theta)])
    # n . (x - centre) + r >= 0 inside
    return np.column_stack([normals, r - normals @ centre])


def _exact_triangle_area(lines):
    """Area of the triangle of three lines (Fractions), by the vertices of consecutive pairs."""
    pts = []
    for i in range(3):
        (a1, b1, c1), (a2, b2, c2) = lines[i], lines[(i + 1) % 3]
        d = a1 * b2 - a2 * b1
        pts.append(((b1 * c2 - b2 * c1) / d, (c1 * a2 - c2 * a1) / d))
    (x0, y0), (x1, y1), (x2, y2) = pts
    return abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2


# ---------------------------------------------------------------------------
# tiny genuine regions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("kind", ["relu", "maxout"])
def test_three_lines_around_a_tiny_triangle_make_seven_regions(area, kind):
    rng = np.random.default_rng(int(-math.log10(area)) + (100 if kind == "maxout" else 0))
    for _ in range(5):
        lines = _triangle(area, rng)
        net = _relu_net(lines) if kind == "relu" else _maxout_net(lines, rng)
        exact = _unit_lines(net)
        # the reference agrees that these are three lines in general position around a triangle of that area
        assert arrangement_faces(exact) == 7
        box_area = (BOX[1] - BOX[0]) ** 2
        assert float(_exact_triangle_area(exact)) / box_area == pytest.approx(area, rel=1e-6)
        part = plane_partition(net, BOX)
        assert part.regions == 7 == count_plane_regions(net, BOX)
        assert part.error_bound == 0.0  # one hidden layer in the input plane: coefficients exact
        # the smallest region is the triangle, and a forward pass inside it gives its pattern
        sizes = [0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1)))
                 for p in part.polygons]
        smallest = int(np.argmin(sizes))
        assert len(part.polygons[smallest]) == 3
        assert sizes[smallest] / box_area == pytest.approx(area, rel=1e-3)
        centroid = part.polygons[smallest].mean(axis=0)
        assert np.array_equal(net.patterns(centroid[None])[0], part.patterns[smallest])


@pytest.mark.parametrize("k", [6, 16, 26, 36, 46, 50])
def test_a_tiny_triangle_of_the_second_layer_is_counted(k):
    # layer 1: h = (x + 2, y + 2) (both positive on the box: no split); layer 2: the lines h1 = 2, h2 = 2 and
    # h1 + h2 = 4 + 2^-k, i.e. x = 0, y = 0, x + y = 2^-k; every coefficient is computed exactly (k <= 50:
    # 4 + 2^-k is a float), and the triangle has 2^-2k / 8 of the box area (1e-31 for k = 50)
    eps = 2.0 ** -k
    W1 = np.zeros((2, 2, 2))
    W1[0, 0, 0] = W1[1, 0, 1] = 1.0
    b1 = np.array([[2.0, 0.0], [2.0, 0.0]])
    W2 = np.zeros((3, 2, 2))
    W2[0, 0] = [1.0, 0.0]
    W2[1, 0] = [0.0, 1.0]
    W2[2, 0] = [1.0, 1.0]
    b2 = np.array([[-2.0, 0.0], [-2.0, 0.0], [-4.0 - eps, 0.0]])
    net = Network([(W1, b1), (W2, b2), (np.ones((1, 3)), np.zeros(1))])
    assert count_plane_regions(net, BOX) == 7
    part = plane_partition(net, BOX)
    assert part.regions == 7 and part.error_bound > 0.0  # the bound does not know the sums were exact
    smallest = min(part.polygons, key=lambda p: np.ptp(p[:, 0]))
    assert np.ptp(smallest[:, 0]) == pytest.approx(eps, rel=1e-9)


# ---------------------------------------------------------------------------
# degenerate arrangements: no slivers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("m", [3, 4, 5, 8])
def test_concurrent_lines_make_two_regions_per_line(m):
    rng = np.random.default_rng(m)
    for _ in range(5):
        # integer normals through a dyadic point: c = -(a px + b py) is exact, so the lines meet in one point
        p = rng.integers(-12, 13, size=2) / 16.0
        normals = rng.integers(-5, 6, size=(m, 2)).astype(float)
        normals = normals[np.abs(normals).sum(axis=1) > 0]
        lines = np.column_stack([normals, -(normals @ p)])
        expected = arrangement_faces([tuple(Fraction(v) for v in line) for line in lines])
        distinct = len({_canonical(tuple(Fraction(v) for v in line)) for line in lines})
        assert expected == 2 * distinct
        assert count_plane_regions(_relu_net(lines), BOX) == expected
        net = _maxout_net(lines, rng)  # its lines are the differences of rounded features: nearly concurrent
        assert count_plane_regions(net, BOX) == arrangement_faces(_unit_lines(net))


def test_three_lines_through_one_point_are_six_regions_not_seven():
    # x = 0, y = 0 and x + y = 0, and the same after a shift by a dyadic vector
    for shift in [(0.0, 0.0), (0.25, -0.375), (1.0 / 3.0, 0.0)]:
        sx, sy = shift
        lines = [(1.0, 0.0, -sx), (0.0, 1.0, -sy), (1.0, 1.0, -(sx + sy))]
        expected = arrangement_faces([tuple(Fraction(v) for v in line) for line in lines])
        assert count_plane_regions(_relu_net(lines), BOX) == expected
        if (sx + sy) == float(Fraction(sx) + Fraction(sy)):
            assert expected == 6


@pytest.mark.parametrize("lines,expected", [
    ([(1.0, 1.0, -2.0)], 1),  # touches the box only at the corner (1, 1)
    ([(1.0, -1.0, 0.0)], 2),  # the diagonal, through two corners
    ([(0.375, -1.25, 0.875)], 2),  # through the corner (1, 1) and into the box
    ([(1.0, 0.0, -1.0)], 1),  # along the side x = 1
    ([(1.0, 0.0, 1.0)], 1),  # along the side x = -1, other orientation
    ([(1.0, -1.0, 0.0), (1.0, 1.0, 0.0)], 4),  # both diagonals: four triangles meeting in the centre
    ([(1.0, -1.0, 0.0), (1.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)], 8),
    ([(1.0, -1.0, 0.0), (1.0, 1.0, -2.0), (0.0, 1.0, -1.0)], 2),  # three lines through the corner (1, 1)
    ([(0.5, 0.25, 0.125)] * 3, 2),  # duplicate units
    ([(0.5, 0.25, 0.125), (-0.5, -0.25, -0.125), (1.0, 0.5, 0.25)], 2),  # one line, three units
    ([(0.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, -1.0)], 1),  # constant units
])
def test_degenerate_arrangements_give_the_exact_count(lines, expected):
    assert arrangement_faces([tuple(Fraction(v) for v in line) for line in lines]) == expected
    assert count_plane_regions(_relu_net(lines), BOX) == expected
    part = plane_partition(_relu_net(lines), BOX)
    area = sum(0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1)))
               for p in part.polygons)
    assert part.regions == expected and area == pytest.approx(4.0, rel=1e-12)


def test_identical_features_of_one_unit_count_once():
    # rank 3 whose features 0 and 2 coincide: the regions of the rank-2 unit of features 0 and 1
    W = np.array([[[1.0, 0.5], [-0.5, 1.0], [1.0, 0.5]]])
    b = np.array([[0.1, -0.2, 0.1]])
    net3 = Network([(W, b), (np.ones((1, 1)), np.zeros(1))])
    net2 = Network([(W[:, :2], b[:, :2]), (np.ones((1, 1)), np.zeros(1))])
    assert count_plane_regions(net3, BOX) == count_plane_regions(net2, BOX) == 2
    part = plane_partition(net3, BOX)
    assert set(part.patterns[:, 0]) == {0, 1}  # the first of two equal features, as numpy.argmax


def test_a_decision_boundary_through_vertices_counts_only_the_regions_it_crosses():
    # u1 = relu(x), u2 = relu(y), N = u1 - u2: zero on the whole quadrant x, y < 0, on the sides of two
    # quadrants, and crossing only the quadrant x, y > 0 (along the diagonal from the centre to a corner)
    net = Network([(np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]]), np.zeros((2, 2))),
                   (np.array([[1.0, -1.0]]), np.zeros(1))])
    part = plane_partition(net, BOX)
    assert part.regions == 4 and part.boundary_pieces == 1
    assert part.boundary_length == pytest.approx(math.sqrt(2.0))


# ---------------------------------------------------------------------------
# random small arrangements against the rational face count
# ---------------------------------------------------------------------------
def _random_lines(rng, n):
    """Random lines: general ones, and integer ones on a dyadic lattice (concurrent, through corners, equal)."""
    lines = []
    for _ in range(n):
        kind = rng.integers(3)
        if kind == 0:
            lines.append(tuple(rng.normal(size=3)))
        elif kind == 1:
            a, b = rng.integers(-3, 4, size=2)
            lines.append((float(a), float(b), float(rng.integers(-8, 9)) / 4.0))
        else:  # through the intersection of two earlier lattice lines, when there is one
            p = rng.integers(-4, 5, size=2) / 4.0
            a, b = rng.integers(-3, 4, size=2)
            lines.append((float(a), float(b), -(a * p[0] + b * p[1])))
    return lines


@pytest.mark.parametrize("seed", range(8))
def test_random_small_arrangements_match_the_rational_face_count(seed):
    rng = np.random.default_rng(1000 + seed)
    for _ in range(25):
        lines = _random_lines(rng, int(rng.integers(1, 8)))
        expected = arrangement_faces([tuple(Fraction(float(v)) for v in line) for line in lines])
        assert count_plane_regions(_relu_net(lines), BOX) == expected
        net = _maxout_net(lines, rng)
        assert count_plane_regions(net, BOX) == arrangement_faces(_unit_lines(net))


def test_random_tiny_arrangements_match_the_rational_face_count():
    # lines through points within 1e-7 of one point: a cluster of tiny faces, some of area below 1e-28
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(3, 7))
        centre = rng.uniform(-0.5, 0.5, size=2)
        theta = rng.uniform(0, math.pi, size=n)
        normals = np.column_stack([np.cos(theta), np.sin(theta)])
        points = centre + 1e-7 * rng.normal(size=(n, 2))
        lines = np.column_stack([normals, -np.sum(normals * points, axis=1)])
        expected = arrangement_faces([tuple(Fraction(float(v)) for v in line) for line in lines])
        assert count_plane_regions(_relu_net(lines), BOX) == expected


# ---------------------------------------------------------------------------
# deeper random networks: the other recounts still agree
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("widths,K", [("2,5,5,2", 3), ("2,4,4,4,1", 2)])
def test_networks_without_biases_match_the_linear_program_count(widths, K):
    # every region is a cone from the origin, a vertex of every cell: the degenerate case of the benchmarks
    arch = Architecture.parse(widths, rank=str(K))
    for seed in range(2):
        net = Network.random(arch, seed)
        assert count_plane_regions(net, (-3, 3)) == lp_count_plane_regions(net, (-3, 3))


def test_error_bound_is_zero_for_one_layer_and_small_for_deeper_networks():
    net = Network.random(Architecture.parse("2,6,1", rank="3", bias_var="1"), 0)
    assert plane_error_bound(net, (-3, 3))[0] == 0.0
    deep = Network.random(Architecture.parse("2,10,10,10,2", rank="3", bias_var="1"), 0)
    features, decision = plane_error_bound(deep, (-3, 3))
    assert 0.0 < features < 1e-10 and 0.0 < decision < 1e-9
    sliced = plane_error_bound(net, (-1, 1), plane=None)
    assert sliced[0] == 0.0


# ---------------------------------------------------------------------------
# the exact arithmetic itself
# ---------------------------------------------------------------------------
def _fraction_det(rows):
    f = [[Fraction(float(r[c])) + Fraction(float(r[c + 3])) for c in range(3)] for r in rows]
    d = (f[0][0] * (f[1][1] * f[2][2] - f[1][2] * f[2][1]) - f[0][1] * (f[1][0] * f[2][2] - f[1][2] * f[2][0])
         + f[0][2] * (f[1][0] * f[2][1] - f[1][1] * f[2][0]))
    return (d > 0) - (d < 0)


def test_two_prod_and_two_sum_are_exact():
    rng = np.random.default_rng(3)
    for a, b in rng.normal(size=(200, 2)) * 10.0 ** rng.integers(-30, 30, size=(200, 2)):
        p, e = kernel.two_prod(a, b)
        assert Fraction(p) + Fraction(e) == Fraction(a) * Fraction(b)
        s, e = kernel.two_sum(a, b)
        assert Fraction(s) + Fraction(e) == Fraction(a) + Fraction(b)


def test_exact_determinant_sign_on_singular_and_nearly_singular_matrices():
    rng = np.random.default_rng(5)
    work, expn = np.empty((3, 6)), np.empty(256)
    for trial in range(300):
        m = np.zeros((3, 6))
        m[:, :3] = rng.normal(size=(3, 3))
        if trial % 3 == 0:  # a third row that is (nearly) a combination of the first two
            m[2, :3] = m[0, :3] * rng.normal() + m[1, :3] * rng.normal()
        if trial % 2 == 0:  # low parts (exact differences of features)
            for r in range(3):
                for c in range(3):
                    m[r, c], m[r, c + 3] = kernel.two_sum(m[r, c], -rng.normal() * 1e-3)
        if trial % 5 == 0:  # an integer singular matrix
            m[:] = 0.0
            m[:2, :3] = rng.integers(-4, 5, size=(2, 3))
            m[2, :3] = m[0, :3] + 2 * m[1, :3]
        if trial % 7 == 0:  # entries far apart: the Fraction fallback
            m[1, :3] *= 1e-200
        assert kernel.det3_sign(m, work, expn) == _fraction_det(m)
