#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <nat/metrics/correlation.hpp>
#include <nat/surrogate/adaptive_switching.hpp>
#include <nat/surrogate/cart.hpp>
#include <nat/surrogate/rbf.hpp>

#include "test_problems.hpp"

using nat::surrogate::adaptive_switching;
using nat::surrogate::regressor;

namespace {

// A model that ignores X: it predicts pseudo-random noise, so it must never win.
class noise_model : public regressor {
 public:
  void fit(const nat::points& X, const std::vector<double>&) override { d_ = X[0].size(); }
  std::vector<double> predict(const nat::points& X) const override {
    nat::rng r(X.size());
    std::vector<double> out(X.size());
    for (auto& v : out) v = r.normal();
    return out;
  }
  std::string name() const override { return "noise"; }
  std::unique_ptr<regressor> clone() const override { return std::make_unique<noise_model>(*this); }
  bool fitted() const override { return d_ > 0; }

 private:
  std::size_t d_ = 0;
};

}  // namespace

TEST_CASE("adaptive_switching: recovers a smooth 10-D function and reports every model") {
  const auto tr = nat_test::sample_function(nat_test::ridge10, 200, 10, 1);
  const auto te = nat_test::sample_function(nat_test::ridge10, 500, 10, 2);
  adaptive_switching m(3);
  m.fit(tr.X, tr.y);
  CHECK(nat::metrics::kendall_tau(m.predict(te.X), te.y) > 0.9);
  REQUIRE(m.scores().size() == 3);
  CHECK(m.scores()[0].name == "rbf");
  CHECK(m.scores()[1].name == "gp");
  CHECK(m.scores()[2].name == "cart_ensemble");
  double best = -2;
  std::string best_name;
  for (const auto& s : m.scores()) {
    REQUIRE(s.fold_tau.size() == 10);
    double mean = 0, var = 0;
    for (double t : s.fold_tau) mean += t / 10;
    for (double t : s.fold_tau) var += (t - mean) * (t - mean) / 10;
    CHECK(s.score == doctest::Approx(mean - std::sqrt(var)));
    if (s.score > best) best = s.score, best_name = s.name;
  }
  CHECK(m.winner_name() == best_name);
  CHECK(m.name() == "as");
}

TEST_CASE("adaptive_switching: never picks noise; skips models that cannot fit; seeded") {
  const auto tr = nat_test::sample_function(nat_test::dominant10, 30, 3, 4);
  std::vector<std::unique_ptr<regressor>> pool;
  pool.push_back(std::make_unique<noise_model>());
  pool.push_back(std::make_unique<nat::surrogate::cart>());
  adaptive_switching a(std::move(pool), 1);
  a.fit(tr.X, tr.y);
  CHECK(a.winner_name() == "cart");
  const adaptive_switching copy = a;
  CHECK(copy.predict(tr.X) == a.predict(tr.X));

  // rbf needs n > d: with 8 rows of 10 features it fails in every fold and is reported so.
  const auto small = nat_test::sample_function(nat_test::ridge10, 12, 10, 5);
  std::vector<std::unique_ptr<regressor>> pool2;
  pool2.push_back(std::make_unique<nat::surrogate::rbf>());
  pool2.push_back(std::make_unique<nat::surrogate::cart>());
  adaptive_switching b(std::move(pool2), 2);
  b.fit(small.X, small.y);
  CHECK(!b.scores()[0].failure.empty());
  CHECK(b.winner_name() == "cart");

  std::vector<std::unique_ptr<regressor>> pool3;
  pool3.push_back(std::make_unique<nat::surrogate::rbf>());
  adaptive_switching c(std::move(pool3), 2);
  CHECK_THROWS_AS(c.fit(small.X, small.y), nat::config_error);
}

TEST_CASE("adaptive_switching: bad input") {
  CHECK_THROWS_AS(adaptive_switching(std::vector<std::unique_ptr<regressor>>{}, 0),
                  nat::config_error);
  CHECK_THROWS_AS(adaptive_switching(0, {1}), nat::config_error);
  adaptive_switching m;
  CHECK_THROWS_AS(m.predict({{1.0}}), nat::config_error);
  CHECK_THROWS_AS(m.fit({{0.0}}, {1.0}), nat::config_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {1.0}}, {1.0}), nat::shape_error);
  CHECK_THROWS_AS(m.fit({{0.0}, {NAN}}, {1.0, 2.0}), nat::config_error);
}
