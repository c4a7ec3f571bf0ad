#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <nat/metrics/correlation.hpp>
#include <nat/surrogate/rbf.hpp>

#include "test_problems.hpp"

using nat::surrogate::rbf;
using nat::surrogate::rbf_kernel;
using nat::surrogate::rbf_params;

TEST_CASE("rbf: recovers a smooth 10-D function (tau > 0.9 on 200 samples)") {
  const auto tr = nat_test::sample_function(nat_test::ridge10, 200, 10, 1);
  const auto te = nat_test::sample_function(nat_test::ridge10, 500, 10, 2);
  for (auto k : {rbf_kernel::cubic, rbf_kernel::thin_plate}) {
    rbf_params p;
    p.kernel = k;
    rbf m(p);
    m.fit(tr.X, tr.y);
    CHECK(nat::metrics::kendall_tau(m.predict(te.X), te.y) > 0.9);
  }
}

TEST_CASE("rbf: interpolates its nodes and reproduces linear functions exactly") {
  nat::rng r(5);
  nat::points X;
  std::vector<double> y, lin;
  for (int i = 0; i < 30; ++i) {
    X.push_back({r.uniform(), r.uniform(), r.uniform()});
    y.push_back(std::sin(3 * X.back()[0]) + X.back()[1] * X.back()[2]);
    lin.push_back(1.5 - 2 * X.back()[0] + 0.5 * X.back()[1] + 3 * X.back()[2]);
  }
  for (auto k : {rbf_kernel::cubic, rbf_kernel::thin_plate, rbf_kernel::gaussian}) {
    rbf_params p;
    p.kernel = k;
    p.ridge = 0;
    rbf m(p);
    m.fit(X, y);
    const auto at_nodes = m.predict(X);
    for (std::size_t i = 0; i < X.size(); ++i)
      CHECK(at_nodes[i] == doctest::Approx(y[i]).epsilon(1e-6));
    // The polynomial tail makes the interpolant exact on linear data (polynomial precision),
    // also away from the nodes.
    m.fit(X, lin);
    const auto q = m.predict({{0.2, 0.9, 0.4}, {1.5, -0.5, 2.0}});
    CHECK(q[0] == doctest::Approx(1.5 - 0.4 + 0.45 + 1.2).epsilon(1e-6));
    CHECK(q[1] == doctest::Approx(1.5 - 3.0 - 0.25 + 6.0).epsilon(1e-6));
  }
}

TEST_CASE("rbf: matches a hand-assembled cubic system in 1-D") {
  // Independent oracle: assemble [[Phi + eta I, P], [P^T, 0]] directly and solve with Eigen.
  const std::vector<double> xs{0.0, 0.3, 0.5, 0.9, 1.4}, ys{1.0, 0.2, -0.3, 0.8, 2.0};
  const double eta = 1e-6;
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(7, 7);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(7);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) A(i, j) = std::pow(std::abs(xs[i] - xs[j]), 3) + (i == j ? eta : 0);
    A(i, 5) = A(5, i) = 1;
    A(i, 6) = A(6, i) = xs[i];
    b(i) = ys[i];
  }
  const Eigen::VectorXd c = A.fullPivLu().solve(b);
  const double q = 0.7;
  double expected = c(5) + c(6) * q;
  for (int j = 0; j < 5; ++j) expected += c(j) * std::pow(std::abs(q - xs[j]), 3);
  nat::points X;
  for (double x : xs) X.push_back({x});
  rbf m;
  m.fit(X, ys);
  CHECK(m.predict({{q}})[0] == doctest::Approx(expected).epsilon(1e-9));
}

TEST_CASE("rbf: bad and degenerate input") {
  rbf m;
  CHECK_THROWS_AS(m.predict({{1.0}}), nat::config_error);               // not fitted
  CHECK_THROWS_AS(m.fit({{0, 0}, {1, 1}}, {1, 2}), nat::config_error);  // n <= d
  CHECK_THROWS_AS(m.fit({{0, 0}, {1, 1}, {2, 0}}, {1, 2}), nat::shape_error);
  CHECK_THROWS_AS(m.fit({{0, 0}, {1}, {2, 0}}, {1, 2, 3}), nat::shape_error);
  CHECK_THROWS_AS(m.fit({{0, NAN}, {1, 1}, {2, 0}}, {1, 2, 3}), nat::config_error);
  CHECK_THROWS_AS(m.fit({{0, 0}, {1, 1}, {2, 0}}, {1, INFINITY, 3}), nat::config_error);
  CHECK_THROWS_AS(m.fit({}, {}), nat::shape_error);
  CHECK_THROWS_AS(rbf(rbf_params{rbf_kernel::cubic, -1.0, 1.0}), nat::config_error);

  // Constant targets: a constant model.
  m.fit({{0, 0}, {1, 1}, {2, 0}, {0, 3}}, {4, 4, 4, 4});
  CHECK(m.predict({{5, 5}, {0.5, 0.1}}) == std::vector<double>{4, 4});
  CHECK_THROWS_AS(m.predict({{1, 2, 3}}), nat::shape_error);
  CHECK_THROWS_AS(m.predict({{1, NAN}}), nat::config_error);

  // Duplicate rows are merged (targets averaged): finite, and the mean at the duplicate.
  m.fit({{0, 0}, {1, 1}, {2, 0}, {0, 3}, {1, 1}}, {1, 2, 3, 4, 6});
  CHECK(m.predict({{1, 1}})[0] == doctest::Approx(4.0).epsilon(1e-6));

  // Collinear nodes make the tail singular: least squares keeps the prediction finite.
  m.fit({{0, 0}, {1, 1}, {2, 2}, {3, 3}}, {0, 1, 4, 9});
  for (double v : m.predict({{1.5, 1.5}, {0, 5}, {10, -3}})) CHECK(std::isfinite(v));
  CHECK(m.predict({{2, 2}})[0] == doctest::Approx(4.0).epsilon(1e-4));
}
