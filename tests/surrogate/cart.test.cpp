#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/metrics/correlation.hpp>
#include <nat/surrogate/cart.hpp>
#include <set>

#include "test_problems.hpp"

using nat::surrogate::cart;
using nat::surrogate::cart_params;

TEST_CASE("cart: ranks a smooth 10-D function with one dominant input (tau > 0.9)") {
  // A single axis-aligned tree on 200 samples cannot rank a function of all ten inputs
  // (0.5 measured on ridge10); with one dominant input it must.
  const auto tr = nat_test::sample_function(nat_test::dominant10, 200, 10, 1);
  const auto te = nat_test::sample_function(nat_test::dominant10, 500, 10, 2);
  cart m;
  m.fit(tr.X, tr.y);
  CHECK(nat::metrics::kendall_tau(m.predict(te.X), te.y) > 0.9);
}

TEST_CASE("cart: fully grown tree reproduces distinct training rows; depth and leaf limits hold") {
  const auto tr = nat_test::sample_function(nat_test::ridge10, 80, 4, 3);
  cart full;
  full.fit(tr.X, tr.y);
  CHECK(full.predict(tr.X) == tr.y);
  cart_params p;
  p.max_depth = 3;
  cart shallow(0, p);
  shallow.fit(tr.X, tr.y);
  CHECK(shallow.depth() <= 3);
  const auto sp = shallow.predict(tr.X);
  CHECK(std::set<double>(sp.begin(), sp.end()).size() <= 8);
  p = {};
  p.min_samples_leaf = 10;
  cart leafy(0, p);
  leafy.fit(tr.X, tr.y);
  const auto pr = leafy.predict(tr.X);
  for (double v : std::set<double>(pr.begin(), pr.end()))
    CHECK(std::count(pr.begin(), pr.end(), v) >= 10);
}

TEST_CASE("cart: a stump picks the split a brute-force search picks") {
  // Independent oracle: try every feature and every midpoint, keep the least summed squared error.
  const auto tr = nat_test::sample_function(nat_test::dominant10, 60, 3, 5);
  double best = INFINITY, thr = 0;
  std::size_t feat = 0;
  for (std::size_t f = 0; f < 3; ++f)
    for (const auto& a : tr.X) {
      for (const auto& b : tr.X) {
        if (!(b[f] > a[f])) continue;
        const double t = 0.5 * (a[f] + b[f]);
        double sl = 0, sr = 0, ql = 0, qr = 0, nl = 0, nr = 0;
        for (std::size_t i = 0; i < tr.X.size(); ++i) {
          if (tr.X[i][f] <= t) {
            sl += tr.y[i], ql += tr.y[i] * tr.y[i], ++nl;
          } else {
            sr += tr.y[i], qr += tr.y[i] * tr.y[i], ++nr;
          }
        }
        const double sse = ql - sl * sl / nl + qr - sr * sr / nr;
        if (sse < best - 1e-9) best = sse, thr = t, feat = f;
      }
    }
  cart_params p;
  p.max_depth = 1;
  cart stump(0, p);
  stump.fit(tr.X, tr.y);
  double left = 0, right = 0, nl = 0, nr = 0, max_left = -INFINITY, min_right = INFINITY;
  for (std::size_t i = 0; i < tr.X.size(); ++i) {
    if (tr.X[i][feat] <= thr) {
      left += tr.y[i], ++nl, max_left = std::max(max_left, tr.X[i][feat]);
    } else {
      right += tr.y[i], ++nr, min_right = std::min(min_right, tr.X[i][feat]);
    }
  }
  // Query at the two training values bounding the gap (any threshold inside it is equivalent).
  std::vector<double> lo(3, 0.5), hi(3, 0.5);
  lo[feat] = max_left;
  hi[feat] = min_right;
  const auto pr = stump.predict({lo, hi});
  CHECK(pr[0] == doctest::Approx(left / nl));
  CHECK(pr[1] == doctest::Approx(right / nr));
}

TEST_CASE("cart: bad and degenerate input") {
  CHECK_THROWS_AS(cart(0, cart_params{0, 0, 2, 0}), nat::config_error);
  CHECK_THROWS_AS(cart(0, cart_params{0, 1, 1, 0}), nat::config_error);
  cart m;
  CHECK_THROWS_AS(m.predict({{1.0}}), nat::config_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {1.0}}, {1.0}), nat::shape_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {INFINITY}}, {1.0, 2.0}), nat::config_error);
  m.fit({{0.0}, {1.0}, {2.0}}, {4, 4, 4});
  CHECK(m.node_count() == 1);
  CHECK(m.predict({{5.0}}) == std::vector<double>{4});
  m.fit({{0.0}, {0.0}, {1.0}}, {1, 3, 5});  // duplicates share a leaf: their mean
  CHECK(m.predict({{0.0}})[0] == doctest::Approx(2.0));
  CHECK_THROWS_AS(m.predict({{0.0, 1.0}}), nat::shape_error);
}
