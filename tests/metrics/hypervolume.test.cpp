#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/core/rng.hpp>
#include <nat/metrics/hypervolume.hpp>
#include <string>
#include <vector>

using nat::points;
using nat::metrics::hypervolume;

namespace {

// Oracle 1: inclusion–exclusion over all non-empty subsets; the intersection of the boxes
// [p, ref] of a subset is [max p, ref]. Exponential, so only for small n.
double hv_inclusion_exclusion(const points& p, const std::vector<double>& ref) {
  const std::size_t n = p.size(), d = ref.size();
  double total = 0;
  for (std::size_t mask = 1; mask < (std::size_t{1} << n); ++mask) {
    double vol = 1;
    int bits = 0;
    for (std::size_t c = 0; c < d; ++c) {
      double lo = -1e300;
      for (std::size_t i = 0; i < n; ++i)
        if (mask >> i & 1) lo = std::max(lo, p[i][c]);
      vol *= std::max(0.0, ref[c] - lo);
    }
    for (std::size_t i = 0; i < n; ++i) bits += int(mask >> i & 1);
    total += (bits % 2 ? 1 : -1) * vol;
  }
  return total;
}

// Oracle 2: grid decomposition. The distinct coordinates (plus ref) cut space into cells; a cell
// is dominated iff some point is <= its lower corner; sum the dominated cells' volumes.
double hv_grid(const points& p, const std::vector<double>& ref) {
  const std::size_t d = ref.size();
  std::vector<std::vector<double>> cuts(d);
  for (std::size_t c = 0; c < d; ++c) {
    for (const auto& q : p)
      if (q[c] < ref[c]) cuts[c].push_back(q[c]);
    cuts[c].push_back(ref[c]);
    std::sort(cuts[c].begin(), cuts[c].end());
    cuts[c].erase(std::unique(cuts[c].begin(), cuts[c].end()), cuts[c].end());
  }
  std::vector<std::size_t> at(d, 0);
  double total = 0;
  while (true) {
    bool valid = true;
    for (std::size_t c = 0; c < d; ++c) valid = valid && at[c] + 1 < cuts[c].size();
    if (valid) {
      bool dom = false;
      for (const auto& q : p) {
        bool all = true;
        for (std::size_t c = 0; c < d && all; ++c) all = q[c] <= cuts[c][at[c]];
        if (all) {
          dom = true;
          break;
        }
      }
      if (dom) {
        double vol = 1;
        for (std::size_t c = 0; c < d; ++c) vol *= cuts[c][at[c] + 1] - cuts[c][at[c]];
        total += vol;
      }
    }
    std::size_t c = 0;
    while (c < d && ++at[c] >= cuts[c].size()) at[c++] = 0;
    if (c == d) break;
  }
  return total;
}

// Random points of three kinds: uniform in a box (many dominated), on the positive unit sphere
// (mutually non-dominated, concave front), and on a coarse integer lattice (ties, duplicates).
points random_points(nat::rng& r, std::size_t n, std::size_t d, int kind) {
  points p(n, std::vector<double>(d));
  for (auto& q : p) {
    if (kind == 0) {
      for (auto& x : q) x = r.uniform();
    } else if (kind == 1) {
      double norm = 0;
      for (auto& x : q) {
        x = std::fabs(r.normal());
        norm += x * x;
      }
      for (auto& x : q) x /= std::sqrt(norm);
    } else {
      for (auto& x : q) x = double(r.uniform_int(0, 4)) / 4.0;
    }
  }
  return p;
}

double rel_err(double a, double b) {
  return std::fabs(a - b) / std::max({std::fabs(a), std::fabs(b), 1e-300});
}

}  // namespace

TEST_CASE("hypervolume: hand-computed values") {
  // 2-D staircase: boxes 3x1 + 2x1 + 1x1 = 6 (ref 4,4; points (1,3) (2,2) (3,1)).
  CHECK(hypervolume({{1, 3}, {2, 2}, {3, 1}}, {4, 4}) == 6.0);
  // Order and duplicates do not matter; dominated points add nothing.
  CHECK(hypervolume({{3, 1}, {2, 2}, {1, 3}, {2, 2}, {3, 3}}, {4, 4}) == 6.0);
  // One point: a box.
  CHECK(hypervolume({{0.5, 0.25, 0}}, {1, 1, 1}) == doctest::Approx(0.375).epsilon(1e-15));
  // 3-D: (0,0,1) and (1,1,0) with ref (2,2,2): 2*2*1 + 1*1*2 - 1*1*1 = 5.
  CHECK(hypervolume({{0, 0, 1}, {1, 1, 0}}, {2, 2, 2}) == 5.0);
  // Unit "axis" points e_i with ref 2: x in [0,2]^d is dominated unless every x_i < 1, so the
  // hypervolume is 2^d - 1: 7, 15, 31 (for 3-D also 3*4 - 3*2 + 1 by inclusion–exclusion).
  CHECK(hypervolume({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {2, 2, 2}) == 7.0);
  CHECK(hypervolume({{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}, {2, 2, 2, 2}) ==
        15.0);
  CHECK(hypervolume(
            {{1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 1, 0}, {0, 0, 0, 0, 1}},
            {2, 2, 2, 2, 2}) == 31.0);
  // 1-D: the best point's distance to ref.
  CHECK(hypervolume({{3}, {1}, {2}}, {5}) == 4.0);
}

TEST_CASE("hypervolume: points not strictly dominating the reference point contribute nothing") {
  CHECK(hypervolume({{1, 5}, {5, 1}}, {5, 5}) == 0.0);  // on the boundary: zero-volume boxes
  CHECK(hypervolume({{6, 6}}, {5, 5}) == 0.0);
  CHECK(hypervolume({{1, 6}, {2, 2}}, {5, 5}) == 9.0);  // only (2,2) counts
  CHECK(hypervolume({{1, 2, 7, 1}}, {5, 5, 5, 5}) == 0.0);
  CHECK(hypervolume(points{}, {1, 1, 1}) == 0.0);  // empty set: documented 0
  CHECK(hypervolume({{-1, -1}}, {0, 0}) == 1.0);   // negative objectives are fine
}

TEST_CASE("hypervolume: bad input") {
  CHECK_THROWS_AS(hypervolume({{1, 2}}, {}), nat::config_error);
  CHECK_THROWS_AS(hypervolume({{1, 2}}, {3, NAN}), nat::config_error);
  CHECK_THROWS_AS(hypervolume({{1, NAN}}, {3, 3}), nat::config_error);
  CHECK_THROWS_AS(hypervolume({{1, INFINITY}}, {3, 3}), nat::config_error);
  CHECK_THROWS_AS(hypervolume({{1, 2, 3}}, {3, 3}), nat::shape_error);
  CHECK_THROWS_AS(hypervolume({{1, 2}, {1}}, {3, 3}), nat::shape_error);
  try {
    hypervolume({{1, 2}, {1}}, {3, 3});
  } catch (const nat::shape_error& e) {
    CHECK(std::string(e.what()).find("hypervolume: points row 1 has 1 objectives, expected 2") !=
          std::string::npos);
  }
  const std::vector<double> flat = {1, 2, NAN, 1};
  CHECK_THROWS_AS(hypervolume(flat.data(), 2, {3, 3}), nat::config_error);
  CHECK(hypervolume(flat.data(), 1, {3, 3}) == 2.0);
}

TEST_CASE("hypervolume: agrees with inclusion–exclusion and grid oracles, 2 to 6 objectives") {
  nat::rng r(1234);
  int cases = 0;
  for (std::size_t d = 2; d <= 6; ++d) {
    const std::size_t max_n = d <= 3 ? 12 : (d == 4 ? 10 : 8);
    for (int rep = 0; rep < 40; ++rep) {
      const int kind = rep % 3;
      const std::size_t n = 1 + r.index(max_n);
      const points p = random_points(r, n, d, kind);
      std::vector<double> ref(d);
      for (auto& x : ref) x = kind == 2 ? 1.0 : 0.8 + 0.4 * r.uniform();  // some points outside
      const double hv = hypervolume(p, ref);
      const double ie = hv_inclusion_exclusion(p, ref);
      const double grid = hv_grid(p, ref);
      CAPTURE(d);
      CAPTURE(n);
      CAPTURE(kind);
      CHECK(rel_err(ie, grid) < 1e-9);  // the oracles agree with each other (I–E cancels)
      CHECK(rel_err(hv, grid) < 1e-12);
      ++cases;
    }
  }
  CHECK(cases == 200);
}

TEST_CASE("hypervolume: bigger sets agree with the grid oracle (3 and 4 objectives)") {
  nat::rng r(99);
  for (int rep = 0; rep < 30; ++rep) {
    const std::size_t d = 3 + rep % 2;
    const std::size_t n = d == 3 ? 40 : 18;
    const points p = random_points(r, n, d, rep % 3);
    const std::vector<double> ref(d, 1.1);
    CHECK(rel_err(hypervolume(p, ref), hv_grid(p, ref)) < 1e-12);
  }
}

TEST_CASE("hypervolume: many ties and duplicates (lattice points) against the grid oracle") {
  // Five values per coordinate keep the grid oracle cheap even for 200 points in 6-D, and make
  // clipped limit points tie in every coordinate.
  nat::rng r(31);
  for (std::size_t d = 2; d <= 6; ++d)
    for (int rep = 0; rep < 3; ++rep) {
      const std::size_t n = 50 + 75 * static_cast<std::size_t>(rep);
      const points p = random_points(r, n, d, 2);
      const std::vector<double> ref(d, 1.0);  // points with a coordinate 1.0 contribute nothing
      CAPTURE(d);
      CAPTURE(n);
      CHECK(rel_err(hypervolume(p, ref), hv_grid(p, ref)) < 1e-12);
    }
}

TEST_CASE("hypervolume: WFG down to 2-D, WFG to the 3-D sweep, tree and vector staircases agree") {
  nat::rng r(7);
  for (std::size_t d = 3; d <= 6; ++d) {
    for (int rep = 0; rep < 6; ++rep) {
      const std::size_t n = d <= 4 ? 120 : 40;
      const points p = random_points(r, n, d, rep % 3);
      std::vector<double> u;
      for (const auto& q : p)
        for (double x : q) u.push_back(1.05 - x);
      const double fast = nat::metrics::detail::wfg(d, n, true).compute(u.data(), n);
      const double slow = nat::metrics::detail::wfg(d, n, false).compute(u.data(), n);
      CHECK(rel_err(fast, slow) < 1e-12);
      CHECK(rel_err(hypervolume(p, std::vector<double>(d, 1.05)), fast) < 1e-12);
    }
  }
  // 3-D above the vector staircase's limit runs on the tree; both must agree with each other.
  const points big = random_points(r, 5000, 3, 1);
  std::vector<double> u;
  for (const auto& q : big)
    for (double x : q) u.push_back(1.0 - x + 1e-3);
  nat::metrics::detail::key_buffer idx;
  nat::metrics::detail::vector_staircase vs;
  nat::metrics::detail::tree_staircase ts;
  const double a = nat::metrics::detail::hv3(u.data(), big.size(), 3, idx, vs);
  const double b = nat::metrics::detail::hv3(u.data(), big.size(), 3, idx, ts);
  CHECK(rel_err(a, b) < 1e-12);
  CHECK(rel_err(hypervolume(big, {1.001, 1.001, 1.001}), a) < 1e-12);
  // The dominated share of [0,1]^3 under the unit sphere's positive octant tends to 1 - pi/6.
  CHECK(a / std::pow(1.001, 3) == doctest::Approx(1 - M_PI / 6).epsilon(0.02));
}

TEST_CASE("hypervolume_monte_carlo: within its error bar, seeded") {
  nat::rng r(5);
  int inside = 0, total = 0;
  for (std::size_t d = 2; d <= 6; ++d) {
    for (int rep = 0; rep < 4; ++rep) {
      const points p = random_points(r, 30, d, rep % 2);
      const std::vector<double> ref(d, 1.2);
      const double exact = hypervolume(p, ref);
      const auto est = nat::metrics::hypervolume_monte_carlo(p, ref, 20000, 17 + rep);
      CHECK(est.samples == 20000);
      CHECK(est.standard_error > 0);
      CHECK(std::fabs(est.value - exact) < 5 * est.standard_error);
      inside += std::fabs(est.value - exact) < 2 * est.standard_error;
      ++total;
    }
  }
  CHECK(inside >= total * 3 / 4);  // about 95% of estimates lie within 2 standard errors
  const points p = {{0.2, 0.3}, {0.5, 0.1}};
  const auto a = nat::metrics::hypervolume_monte_carlo(p, {1, 1}, 1000, 3);
  const auto b = nat::metrics::hypervolume_monte_carlo(p, {1, 1}, 1000, 3);
  CHECK(a.value == b.value);
  CHECK(nat::metrics::hypervolume_monte_carlo({{2, 2}}, {1, 1}, 10, 1).value == 0.0);
  CHECK_THROWS_AS(nat::metrics::hypervolume_monte_carlo(p, {1, 1}, 0, 1), nat::config_error);
  CHECK_THROWS_AS(nat::metrics::hypervolume_monte_carlo(p, {1, 1, 1}, 10, 1), nat::shape_error);
}
