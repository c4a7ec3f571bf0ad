#include <doctest/doctest.h>

#include <cmath>
#include <nat/surrogate/surrogate.hpp>

#include "test_problems.hpp"

TEST_CASE("make_regressor: every name builds its model; unknown names are refused") {
  const auto tr = nat_test::sample_nas_like(60, 1), te = nat_test::sample_nas_like(20, 2);
  for (const auto& n : nat::surrogate::regressor_names()) {
    CAPTURE(n);
    auto m = nat::surrogate::make_regressor(n, 7);
    CHECK(m->name() == n);
    CHECK(!m->fitted());
    if (n == "as") {
      // Keep the unit test fast: the default pool is exercised in adaptive_switching.test.cpp.
      continue;
    }
    m->fit(tr.X, tr.y);
    CHECK(m->fitted());
    const auto p = m->predict(te.X);
    REQUIRE(p.size() == te.X.size());
    for (double v : p) CHECK(std::isfinite(v));
    auto c = m->clone();
    CHECK(c->predict(te.X) == p);
    if (m->has_variance()) {
      for (double v : m->predict_variance(te.X)) CHECK(v >= 0);
    } else {
      CHECK_THROWS_AS(m->predict_variance(te.X), nat::not_supported);
    }
  }
  CHECK(nat::surrogate::make_regressor("gaussian_process")->name() == "gp");
  CHECK(nat::surrogate::make_regressor("carts")->name() == "cart_ensemble");
  CHECK_THROWS_AS(nat::surrogate::make_regressor("xgboost"), nat::config_error);
}

TEST_CASE("every model: bad input gives a clear exception, degenerate input a finite model") {
  for (const auto& n : nat::surrogate::regressor_names()) {
    CAPTURE(n);
    auto m = nat::surrogate::make_regressor(n, 1);
    CHECK_THROWS_AS(m->predict({{1.0, 2.0}}), nat::config_error);
    CHECK_THROWS_AS(m->fit({{0, 1}, {1, 0}, {2, 2}}, {1.0, 2.0}), nat::shape_error);
    CHECK_THROWS_AS(m->fit({{0, 1}, {1}, {2, 2}}, {1.0, 2.0, 3.0}), nat::shape_error);
    CHECK_THROWS_AS(m->fit({{0, 1}, {1, NAN}, {2, 2}}, {1.0, 2.0, 3.0}), nat::config_error);
    CHECK_THROWS_AS(m->fit({{0, 1}, {1, 0}, {2, 2}}, {1.0, -INFINITY, 3.0}), nat::config_error);
    CHECK_THROWS_AS(m->fit({}, {}), nat::shape_error);
    // Constant targets: constant predictions equal to the target.
    nat::points X;
    std::vector<double> y;
    for (int i = 0; i < 24; ++i) {
      X.push_back({static_cast<double>(i % 5), static_cast<double>(i % 3)});
      y.push_back(2.5);
    }
    m->fit(X, y);
    for (double v : m->predict({{0.5, 7.0}, {100.0, -3.0}})) CHECK(v == doctest::Approx(2.5));
    // Heavily duplicated rows with conflicting targets: finite predictions.
    for (int i = 0; i < 24; ++i) y[static_cast<std::size_t>(i)] = static_cast<double>(i % 7);
    m->fit(X, y);
    for (double v : m->predict({{0.5, 7.0}, {2.0, 1.0}, {100.0, -3.0}})) CHECK(std::isfinite(v));
    CHECK_THROWS_AS(m->predict({{1.0}}), nat::shape_error);
  }
}
