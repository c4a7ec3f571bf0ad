#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <nat/metrics/correlation.hpp>
#include <nat/surrogate/gaussian_process.hpp>

#include "test_problems.hpp"

using nat::surrogate::gaussian_process;
using nat::surrogate::gp_kernel;
using nat::surrogate::gp_mean;
using nat::surrogate::gp_params;

namespace {

// Independent dense-algebra oracle for an isotropic squared-exponential GP with a constant mean
// (ordinary Kriging): returns the concentrated negative log-likelihood on raw targets and fills
// the posterior mean/variance at the query rows.
double kriging(const nat::points& X, const std::vector<double>& y, double l, double g,
               const nat::points& Q, std::vector<double>* mean, std::vector<double>* var) {
  const auto n = static_cast<Eigen::Index>(X.size());
  auto k = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t j = 0; j < a.size(); ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
    return std::exp(-0.5 * s / (l * l));
  };
  Eigen::MatrixXd K(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) K(i, j) = k(X[i], X[j]) + (i == j ? g : 0.0);
  const Eigen::MatrixXd Ki = K.inverse();
  const Eigen::VectorXd Y = Eigen::Map<const Eigen::VectorXd>(y.data(), n),
                        one = Eigen::VectorXd::Ones(n);
  const double mu = one.dot(Ki * Y) / one.dot(Ki * one);
  const Eigen::VectorXd r = Y - mu * one;
  const double s2 = r.dot(Ki * r) / static_cast<double>(n);
  if (mean) {
    mean->clear();
    var->clear();
    for (const auto& q : Q) {
      Eigen::VectorXd kq(n);
      for (Eigen::Index i = 0; i < n; ++i) kq(i) = k(q, X[i]);
      mean->push_back(mu + kq.dot(Ki * r));
      const double u = one.dot(Ki * kq) - 1.0;
      var->push_back(s2 * (1.0 - kq.dot(Ki * kq) + u * u / one.dot(Ki * one)));
    }
  }
  return 0.5 * static_cast<double>(n) * std::log(s2) + 0.5 * std::log(K.determinant());
}

}  // namespace

TEST_CASE("gaussian_process: recovers a smooth 10-D function (tau > 0.9 on 200 samples)") {
  const auto tr = nat_test::sample_function(nat_test::ridge10, 200, 10, 1);
  const auto te = nat_test::sample_function(nat_test::ridge10, 500, 10, 2);
  for (bool iso : {true, false})
    for (auto k : {gp_kernel::squared_exponential, gp_kernel::matern52}) {
      gp_params p;
      p.isotropic = iso;
      p.kernel = k;
      p.n_restarts = 2;
      gaussian_process m(1, p);
      m.fit(tr.X, tr.y);
      CHECK(nat::metrics::kendall_tau(m.predict(te.X), te.y) > 0.9);
    }
}

TEST_CASE("gaussian_process: log-likelihood gradient matches finite differences") {
  const auto tr = nat_test::sample_function(nat_test::dominant10, 40, 4, 3);
  nat::surrogate::detail::matrix X = nat::surrogate::detail::to_matrix(tr.X);
  nat::surrogate::detail::vector y = Eigen::Map<const Eigen::VectorXd>(tr.y.data(), 40);
  y = (y.array() - y.mean()) / std::sqrt((y.array() - y.mean()).square().mean());
  for (bool iso : {true, false})
    for (auto k : {gp_kernel::squared_exponential, gp_kernel::matern52})
      for (auto mean : {gp_mean::constant, gp_mean::linear}) {
        gp_params p;
        p.isotropic = iso;
        p.kernel = k;
        p.mean = mean;
        const Eigen::Index n_ls = iso ? 1 : 4;
        Eigen::MatrixXd F(40, mean == gp_mean::linear ? 5 : 1);
        F.col(0).setOnes();
        if (mean == gp_mean::linear) F.rightCols(4) = X;
        const nat::surrogate::detail::gp_likelihood lik{X, y, F, p, n_ls};
        Eigen::VectorXd th(n_ls + 1);
        for (Eigen::Index i = 0; i < n_ls; ++i)
          th(i) = std::log(0.3 + 0.2 * static_cast<double>(i));
        th(n_ls) = std::log(0.05);
        nat::surrogate::detail::gp_likelihood::state st;
        Eigen::VectorXd g;
        lik.evaluate(th, st, &g);
        for (Eigen::Index i = 0; i < th.size(); ++i) {
          const double h = 1e-6;
          Eigen::VectorXd a = th, b = th;
          a(i) += h;
          b(i) -= h;
          const double fd = (lik.evaluate(a, st, nullptr) - lik.evaluate(b, st, nullptr)) / (2 * h);
          CHECK(g(i) == doctest::Approx(fd).epsilon(1e-5).scale(1.0));
        }
      }
}

TEST_CASE("gaussian_process: posterior equals dense Kriging formulas; likelihood is maximised") {
  const auto tr = nat_test::sample_function(nat_test::dominant10, 35, 3, 9);
  const auto te = nat_test::sample_function(nat_test::dominant10, 10, 3, 10);
  gp_params p;
  p.normalize_x = false;
  gaussian_process m(4, p);
  m.fit(tr.X, tr.y);
  const double l = m.lengthscales().at(0), g = m.nugget();
  std::vector<double> mean, var;
  const double nll = kriging(tr.X, tr.y, l, g, te.X, &mean, &var);
  const auto pm = m.predict(te.X), pv = m.predict_variance(te.X);
  // Near the data the variance is a small difference of O(1) terms: compare it on the scale of
  // the prior variance (the variance far away), where both computations are accurate.
  std::vector<double> far_mean, far_var;
  kriging(tr.X, tr.y, l, g, {{50.0, 50.0, 50.0}}, &far_mean, &far_var);
  for (std::size_t i = 0; i < te.X.size(); ++i) {
    CHECK(pm[i] == doctest::Approx(mean[i]).epsilon(1e-6));
    CHECK(std::abs(pv[i] - var[i]) <= 1e-5 * far_var[0]);
  }
  CHECK(m.predict_variance({{50.0, 50.0, 50.0}})[0] == doctest::Approx(far_var[0]).epsilon(1e-6));
  // No point of a coarse grid over (lengthscale, nugget) has a better likelihood.
  for (double lg = -1.5; lg <= 1.5; lg += 0.25)
    for (double gg = -6; gg <= 0; gg += 0.5)
      CHECK(nll <=
            kriging(tr.X, tr.y, std::exp(lg), std::pow(10.0, gg), {}, nullptr, nullptr) + 1e-6);
}

TEST_CASE("gaussian_process: variance is small at data and grows away from it; seeded") {
  const auto tr = nat_test::sample_function(nat_test::ridge10, 50, 2, 12);
  gp_params p;
  p.nugget = false;
  gaussian_process a(5, p), b(5, p);
  a.fit(tr.X, tr.y);
  b.fit(tr.X, tr.y);
  const auto v = a.predict_variance({tr.X[0], {5.0, 5.0}});
  CHECK(v[0] >= 0);
  CHECK(v[0] < 1e-3 * v[1]);
  CHECK(a.predict(tr.X)[3] == doctest::Approx(tr.y[3]).epsilon(1e-4));
  CHECK(a.predict({{0.3, 0.7}}) == b.predict({{0.3, 0.7}}));
}

TEST_CASE("gaussian_process: bad and degenerate input") {
  CHECK_THROWS_AS(gaussian_process(0, gp_params{gp_kernel::matern52, gp_mean::constant, true, true,
                                                1e-6, 10.0, 2.0, 1.0}),
                  nat::config_error);
  gaussian_process m;
  CHECK_THROWS_AS(m.predict({{1.0}}), nat::config_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {1.0}}, {1.0}), nat::shape_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {NAN}}, {1.0, 2.0}), nat::config_error);
  m.fit({{0.0}, {1.0}, {2.0}}, {5, 5, 5});
  CHECK(m.predict({{9.0}}) == std::vector<double>{5});
  CHECK(m.predict_variance({{9.0}}) == std::vector<double>{0});
  // Duplicate rows with conflicting targets: the nugget absorbs them.
  m.fit({{0.0}, {0.0}, {1.0}, {1.0}, {2.0}}, {1, 2, 3, 3.5, 4});
  for (double v : m.predict({{0.0}, {0.5}, {3.0}})) CHECK(std::isfinite(v));
  CHECK(m.predict({{0.0}})[0] == doctest::Approx(1.5).epsilon(0.2));
  // Without a nugget, exact duplicates still give a finite model (jitter).
  gp_params p;
  p.nugget = false;
  gaussian_process strict(0, p);
  strict.fit({{0.0}, {0.0}, {1.0}, {2.0}}, {1, 1, 3, 4});
  for (double v : strict.predict({{0.5}})) CHECK(std::isfinite(v));
  // A single row: constant model.
  m.fit({{1.0, 2.0}}, {3.0});
  CHECK(m.predict({{0.0, 0.0}}) == std::vector<double>{3.0});
  CHECK_THROWS_AS(m.predict({{0.0}}), nat::shape_error);
}
