#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nat/evo/evo.hpp>
#include <string>

using namespace nat::evo;
using nat::points;

TEST_CASE("nsga2 reaches IGD < 0.01 on ZDT1, ZDT2 and ZDT3 (pop 100, 250 generations)") {
  struct tc {
    problem p;
    points front;
    std::string name;
  };
  for (auto& c : {tc{zdt1(), zdt1_front(), "zdt1"}, tc{zdt2(), zdt2_front(), "zdt2"},
                  tc{zdt3(), zdt3_front(), "zdt3"}}) {
    const result r = nsga2().solve(c.p, 250, 1);
    const double igd = detail::igd(r.F, c.front);
    MESSAGE(c.name << ": IGD " << igd << " with " << r.F.size() << " non-dominated points");
    CHECK(igd < 0.01);
    CHECK(r.n_gen == 250);
    CHECK(r.n_evals == 250 * 100);
    CHECK(r.history.size() == 250);
    CHECK(r.X.size() == r.F.size());
    // Every reported row is non-dominated and its objectives match a fresh evaluation.
    CHECK(non_dominated_sort(r.F).size() == 1);
    const points again = c.p.evaluate(r.X);
    CHECK(again == r.F);
  }
}

TEST_CASE("nsga3 reaches IGD < 0.05 on 3-objective DTLZ2 within Deb & Jain's 250 generations") {
  const points dirs = das_dennis(3, 12);
  nsga3_params p;
  p.pop_size = 92;
  const result r = nsga3(p, dirs).solve(dtlz2(3), 250, 1);
  // Deb & Jain measure IGD against the reference directions' intersections with the front.
  const double igd = detail::igd(r.F, dtlz2_front(3, dirs.size()));
  MESSAGE("dtlz2 (3 obj): IGD " << igd);
  CHECK(igd < 0.05);
  CHECK(r.F.size() >= 80);
}

TEST_CASE("same seed gives identical results; a different seed differs") {
  const problem p = zdt1(10);
  const result a = nsga2().solve(p, 30, 123), b = nsga2().solve(p, 30, 123);
  const result c = nsga2().solve(p, 30, 124);
  CHECK(a.X == b.X);
  CHECK(a.F == b.F);
  CHECK(a.pop.X == b.pop.X);
  CHECK(a.X != c.X);
  const points dirs = riesz_energy_directions(3, 40, 42);
  nsga3_params q;
  q.pop_size = 40;
  const result d = nsga3(q, dirs).solve(dtlz2(3), 20, 9), e = nsga3(q, dirs).solve(dtlz2(3), 20, 9);
  CHECK(d.pop.X == e.pop.X);
}

TEST_CASE("ga minimises a shifted sphere") {
  problem p;
  p.n_var = 5;
  p.n_obj = 1;
  p.lower.assign(5, -5.0);
  p.upper.assign(5, 5.0);
  p.evaluate = [](const points& X) {
    points F;
    for (const auto& x : X) {
      double s = 0.0;
      for (double v : x) s += (v - 1.0) * (v - 1.0);
      F.push_back({s});
    }
    return F;
  };
  const result r = ga().solve(p, 100, 3);
  REQUIRE(r.F.size() == 1);
  CHECK(r.F[0][0] < 1e-3);
  // Best-so-far never gets worse (fitness survival is elitist).
  for (std::size_t g = 1; g < r.history.size(); ++g)
    CHECK(r.history[g].F[0][0] <= r.history[g - 1].F[0][0]);
  CHECK_THROWS_AS(ga().solve(zdt1(), 10, 1), nat::config_error);
}

TEST_CASE("NAT integer operators keep genomes integral and in bounds") {
  // A 22-gene integer problem shaped like the NAT genome; objectives: sum and distance from 2.
  problem p;
  p.n_var = 22;
  p.n_obj = 2;
  p.lower.assign(22, 0.0);
  p.upper.assign(22, 4.0);
  p.integer.assign(22, true);
  std::size_t n_rows = 0;
  p.evaluate = [&](const points& X) {
    points F;
    for (const auto& x : X) {
      double a = 0.0, b = 0.0;
      for (double v : x) {
        CHECK(v == std::round(v));
        CHECK((v >= 0 && v <= 4));
        a += v;
        b += std::fabs(v - 2.0);
      }
      F.push_back({a, b});
      ++n_rows;
    }
    return F;
  };
  const result r = nsga2(nsga2_params::nat()).solve(p, 20, 42);
  CHECK(r.n_evals == n_rows);
  CHECK(r.n_evals <= 20 * 100);
  // Both extremes (all zeros: a = 0; all twos: b = 0) improve clearly on the initial sample.
  auto best = [](const points& F, std::size_t j) {
    double v = 1e9;
    for (const auto& f : F) v = std::min(v, f[j]);
    return v;
  };
  MESSAGE("NAT operators: best sum " << best(r.F, 0) << " (initial " << best(r.history[0].F, 0)
                                     << "), best distance " << best(r.F, 1) << " (initial "
                                     << best(r.history[0].F, 1) << ")");
  CHECK(best(r.F, 0) <= best(r.history[0].F, 0) - 10);
  CHECK(best(r.F, 1) <= best(r.history[0].F, 1) - 5);
  // No duplicate genomes in the final population.
  const points X = r.pop.X_points();
  for (std::size_t i = 0; i < X.size(); ++i)
    for (std::size_t k = i + 1; k < X.size(); ++k) CHECK(X[i] != X[k]);
}

TEST_CASE(
    "termination by evaluations and by callback; per-generation callback; initial population") {
  run_options opt;
  opt.term.n_evals = 1000;
  std::size_t calls = 0;
  opt.callback = [&](const generation_state& s) {
    ++calls;
    CHECK(s.gen == calls);
    CHECK(s.pop.size() == 100);
  };
  const result r = nsga2().solve(zdt1(), opt, 5);
  CHECK(r.n_evals == 1000);
  CHECK(calls == 10);

  run_options o2;
  o2.term.stop = [](const generation_state& s) { return s.gen == 7; };
  CHECK(nsga2().solve(zdt2(), o2, 5).n_gen == 7);

  // Seeding with a known optimal row keeps it (or something at least as good) in the front.
  run_options o3;
  o3.term.n_gen = 2;
  std::vector<double> opt_row(30, 0.0);
  o3.initial_X = {opt_row};
  const result s = nsga2().solve(zdt1(), o3, 5);
  bool has = false;
  for (const auto& x : s.pop.X_points()) has = has || x == opt_row;
  CHECK(has);
  run_options bad;
  CHECK_THROWS_AS(nsga2().solve(zdt1(), bad, 1), nat::config_error);
  bad.term.n_gen = 3;
  bad.initial_X = {{0.5}};
  CHECK_THROWS_AS(nsga2().solve(zdt1(), bad, 1), nat::shape_error);
}

TEST_CASE("NaN objectives are infeasible, never crash; constraint violation is honoured") {
  problem p = zdt1(5);
  auto inner = p.evaluate_flat;
  p.evaluate_flat = nullptr;
  // Objectives are NaN whenever x1 > 0.5: the front must consist of x1 <= 0.5 rows only.
  p.evaluate = [inner](const points& X) {
    points F(X.size(), std::vector<double>(2));
    for (std::size_t i = 0; i < X.size(); ++i) {
      inner(X[i].data(), 1, F[i].data());
      if (X[i][1] > 0.5) F[i][0] = std::numeric_limits<double>::quiet_NaN();
    }
    return F;
  };
  const result r = nsga2().solve(p, 30, 1);
  CHECK(!r.F.empty());
  for (std::size_t i = 0; i < r.X.size(); ++i) {
    CHECK(r.X[i][1] <= 0.5);
    CHECK(!std::isnan(r.F[i][0]));
  }
  // All rows NaN: the run completes and reports one (infeasible) row.
  problem all_nan = zdt1(5);
  all_nan.evaluate_flat = [](const double*, std::size_t n, double* f) {
    for (std::size_t i = 0; i < 2 * n; ++i) f[i] = std::nan("");
  };
  const result q = nsga2().solve(all_nan, 5, 1);
  CHECK(q.X.size() == 1);
  CHECK(std::isinf(q.pop.CV[0]));

  // Constraint x0 >= 0.3 on ZDT1: every reported row satisfies it.
  problem c = zdt1(5);
  c.constraint_violation = [](const points& X) {
    std::vector<double> cv;
    for (const auto& x : X) cv.push_back(std::max(0.0, 0.3 - x[0]));
    return cv;
  };
  const result cr = nsga2().solve(c, 40, 2);
  for (const auto& x : cr.X) CHECK(x[0] >= 0.3);

  // Three-objective NSGA-III with NaN rows as well.
  problem d = dtlz2(3);
  auto dk = d.evaluate_flat;
  d.evaluate_flat = [dk](const double* x, std::size_t n, double* f) {
    dk(x, n, f);
    for (std::size_t i = 0; i < n; ++i)
      if (x[i * 12] > 0.9) f[i * 3 + 2] = std::nan("");
  };
  nsga3_params p3;
  p3.pop_size = 92;
  const result dr = nsga3(p3, das_dennis(3, 12)).solve(d, 20, 3);
  for (const auto& x : dr.X) CHECK(x[0] <= 0.9);
}

TEST_CASE("bad configuration gives config_error or shape_error") {
  problem p = zdt1(4);
  p.lower[2] = 2.0;  // lb > ub
  CHECK_THROWS_AS(nsga2().solve(p, 5, 1), nat::config_error);
  problem z = zdt1(4);
  z.n_obj = 0;
  CHECK_THROWS_AS(nsga2().solve(z, 5, 1), nat::config_error);
  problem w = zdt1(4);
  w.evaluate_flat = nullptr;
  w.evaluate = [](const points& X) { return points(X.size(), std::vector<double>(3)); };
  CHECK_THROWS_AS(nsga2().solve(w, 5, 1), nat::shape_error);
  w.evaluate = [](const points& X) { return points(X.size() - 1, std::vector<double>(2)); };
  CHECK_THROWS_AS(nsga2().solve(w, 5, 1), nat::shape_error);
  problem ib = zdt1(4);
  ib.integer = {true, false, false, false};
  ib.upper[0] = 0.5;  // integer variable with a fractional bound
  CHECK_THROWS_AS(nsga2().solve(ib, 5, 1), nat::config_error);
  nsga2_params small;
  small.pop_size = 1;
  CHECK_THROWS_AS(nsga2(small).solve(zdt1(), 5, 1), nat::config_error);
  nsga2_params badx;
  badx.crossover.prob = 1.5;
  CHECK_THROWS_AS(nsga2(badx).solve(zdt1(), 5, 1), nat::config_error);
  nsga3_params p3;
  p3.pop_size = 50;
  CHECK_THROWS_AS(nsga3(p3, das_dennis(3, 12)).solve(dtlz2(3), 5, 1), nat::config_error);
  p3.pop_size = 92;
  CHECK_THROWS_AS(nsga3(p3, das_dennis(3, 12)).solve(dtlz2(4), 5, 1), nat::config_error);
  CHECK_THROWS_AS(nsga3(p3, points{}), nat::config_error);
  CHECK_THROWS_AS(nsga3(p3, points{{0, 0, 0}}), nat::config_error);
  CHECK_THROWS_AS(nsga3(p3, points{{-1, 1, 1}}), nat::config_error);
  CHECK_THROWS_AS(nsga2().solve(problem{}, 5, 1), nat::config_error);
}

TEST_CASE(
    "NAT's many-objective setting: NSGA-III on 100 Riesz directions (seed 42), integer genes") {
  // Three objectives over 22 integer genes in 0..3: count of zeros, ones and twos (each negated
  // share is minimised as the count of the other values), a front with many trade-offs.
  problem p;
  p.n_var = 22;
  p.n_obj = 3;
  p.lower.assign(22, 0.0);
  p.upper.assign(22, 3.0);
  p.integer.assign(22, true);
  p.evaluate = [](const points& X) {
    points F;
    for (const auto& x : X) {
      std::vector<double> f(3, 0.0);
      for (double v : x) {
        REQUIRE(v == std::round(v));
        for (std::size_t j = 0; j < 3; ++j) f[j] += v == double(j) ? 0.0 : 1.0;
      }
      F.push_back(f);
    }
    return F;
  };
  const result r = nsga3(nsga3_params::nat(), riesz_energy_directions(3, 100, 42)).solve(p, 20, 1);
  CHECK(r.pop.size() == 100);
  CHECK(r.n_evals <= 2000);
  // Every objective's best value improves on the initial sample's best (random genomes have
  // f_j ~ Binomial(22, 3/4): mean 16.5, sd 2).
  for (std::size_t j = 0; j < 3; ++j) {
    double best = 1e9, initial = 1e9;
    for (const auto& f : r.F) best = std::min(best, f[j]);
    for (const auto& f : r.history[0].F) initial = std::min(initial, f[j]);
    MESSAGE("objective " << j << ": best " << best << ", initial best " << initial);
    CHECK(best <= initial - 2.0);
  }
  const result again =
      nsga3(nsga3_params::nat(), riesz_energy_directions(3, 100, 42)).solve(p, 20, 1);
  CHECK(again.X == r.X);
}
