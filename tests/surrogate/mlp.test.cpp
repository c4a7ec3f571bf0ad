#include <doctest/doctest.h>

#include <cmath>
#include <nat/metrics/correlation.hpp>
#include <nat/surrogate/mlp.hpp>

#include "test_problems.hpp"

using nat::surrogate::mlp;
using nat::surrogate::mlp_params;

TEST_CASE("mlp: recovers a smooth 10-D function (tau > 0.9 on 200 samples)") {
  const auto tr = nat_test::sample_function(nat_test::ridge10, 200, 10, 1);
  const auto te = nat_test::sample_function(nat_test::ridge10, 500, 10, 2);
  mlp m(1);
  m.fit(tr.X, tr.y);
  CHECK(nat::metrics::kendall_tau(m.predict(te.X), te.y) > 0.9);
}

TEST_CASE("mlp: fits a linear map closely; seeded") {
  nat::rng r(2);
  nat::points X;
  std::vector<double> y;
  for (int i = 0; i < 150; ++i) {
    X.push_back({r.uniform(), r.uniform(), r.uniform()});
    y.push_back(100 + 3 * X.back()[0] - 2 * X.back()[1] + X.back()[2]);
  }
  mlp_params p;
  p.hidden = {32, 32};
  mlp a(5, p), b(5, p);
  a.fit(X, y);
  b.fit(X, y);
  const auto pa = a.predict({{0.5, 0.5, 0.5}, {0.1, 0.9, 0.2}});
  CHECK(pa == b.predict({{0.5, 0.5, 0.5}, {0.1, 0.9, 0.2}}));
  CHECK(pa[0] == doctest::Approx(101.0).epsilon(0.002));
  CHECK(pa[1] == doctest::Approx(100 + 0.3 - 1.8 + 0.2).epsilon(0.002));
}

TEST_CASE("mlp: bad and degenerate input") {
  CHECK_THROWS_AS(mlp(0, mlp_params{{10, 0}}), nat::config_error);
  mlp_params bad;
  bad.validation_fraction = 1.0;
  CHECK_THROWS_AS(mlp(0, bad), nat::config_error);
  mlp m;
  CHECK_THROWS_AS(m.predict({{1.0}}), nat::config_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {1.0}}, {1.0}), nat::shape_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {NAN}}, {1.0, 2.0}), nat::config_error);
  m.fit({{0.0}, {1.0}, {2.0}}, {7, 7, 7});
  CHECK(m.predict({{4.0}}) == std::vector<double>{7});
  m.fit({{0.0}, {0.0}, {1.0}}, {1, 2, 3});  // tiny, with a duplicate: no validation split
  for (double v : m.predict({{0.0}, {0.5}, {3.0}})) CHECK(std::isfinite(v));
  CHECK_THROWS_AS(m.predict({{0.0, 1.0}}), nat::shape_error);
}
