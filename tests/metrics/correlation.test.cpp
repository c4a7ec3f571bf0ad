#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nat/core/rng.hpp>
#include <nat/metrics/correlation.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string fixture_dir() {
  // NAT_TESTS_DIR, not __FILE__: ccache's base_dir makes __FILE__ relative to the build directory.
  return std::string(NAT_TESTS_DIR) + "/metrics/fixtures/";
}

std::vector<std::vector<double>> read_csv(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> row;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// O(n^2) textbook tau-b: an independent oracle for the O(n log n) implementation.
double naive_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  double c = 0, ta = 0, tb = 0, total = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const double sa = (a[i] > a[j]) - (a[i] < a[j]), sb = (b[i] > b[j]) - (b[i] < b[j]);
      c += sa * sb;
      ta += sa != 0;
      tb += sb != 0;
      ++total;
    }
  return c / std::sqrt(ta * tb);
}

}  // namespace

TEST_CASE("kendall_tau and spearman equal scipy's on fixtures with ties") {
  const auto samples = read_csv(fixture_dir() + "tau_samples.csv");
  const auto expected = read_csv(fixture_dir() + "tau_expected.csv");
  std::map<int, std::pair<std::vector<double>, std::vector<double>>> cases;
  for (const auto& r : samples) {
    auto& c = cases[static_cast<int>(r[0])];
    c.first.push_back(r[1]);
    c.second.push_back(r[2]);
  }
  REQUIRE(expected.size() >= 10);
  for (const auto& e : expected) {
    const auto& c = cases.at(static_cast<int>(e[0]));
    REQUIRE(c.first.size() == static_cast<std::size_t>(e[1]));
    CAPTURE(e[0]);
    CHECK(std::abs(nat::metrics::kendall_tau(c.first, c.second) - e[2]) < 1e-12);
    CHECK(std::abs(nat::metrics::spearman(c.first, c.second) - e[3]) < 1e-12);
  }
}

TEST_CASE("kendall_tau equals the O(n^2) definition on random data with ties") {
  nat::rng r(3);
  for (int rep = 0; rep < 30; ++rep) {
    const std::size_t n = 2 + r.index(150);
    std::vector<double> a(n), b(n);
    const int levels = 1 + static_cast<int>(r.index(8));
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = static_cast<double>(r.uniform_int(0, levels));
      b[i] = rep % 2 ? r.normal() : a[i] + static_cast<double>(r.uniform_int(-2, 2));
    }
    bool a_const = true, b_const = true;
    for (std::size_t i = 1; i < n; ++i) a_const = a_const && a[i] == a[0];
    for (std::size_t i = 1; i < n; ++i) b_const = b_const && b[i] == b[0];
    if (a_const || b_const) continue;
    CHECK(std::abs(nat::metrics::kendall_tau(a, b) - naive_tau_b(a, b)) < 1e-12);
  }
}

TEST_CASE("correlation metrics: degenerate and bad input") {
  using nat::metrics::kendall_tau;
  const std::vector<double> c{1, 1, 1}, v{1, 2, 3};
  CHECK(kendall_tau(c, v) == 0.0);
  CHECK(nat::metrics::spearman(v, c) == 0.0);
  CHECK(kendall_tau({}, {}) == 0.0);
  CHECK(kendall_tau(v, {3, 2, 1}) == doctest::Approx(-1.0));
  CHECK_THROWS_AS(kendall_tau(v, {1, 2}), nat::shape_error);
  CHECK_THROWS_AS(kendall_tau(v, {1, 2, NAN}), nat::config_error);
  CHECK_THROWS_AS(nat::metrics::spearman(v, {1, INFINITY, 2}), nat::config_error);
  CHECK(nat::metrics::rmse({1, 2, 3}, {1, 2, 5}) == doctest::Approx(std::sqrt(4.0 / 3.0)));
  CHECK_THROWS_AS(nat::metrics::rmse({}, {}), nat::config_error);
  CHECK_THROWS_AS(nat::metrics::rmse({1}, {1, 2}), nat::shape_error);
}
