#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/evo/nsga2.hpp>
#include <nat/evo/nsga3.hpp>
#include <nat/evo/reference_directions.hpp>

using namespace nat::evo;

namespace {
population make_pop(const nat::points& F) {
  population p;
  p.n_var = 1;
  p.n_obj = F[0].size();
  for (std::size_t i = 0; i < F.size(); ++i) {
    p.X.push_back(double(i));  // the genome records the row's index
    p.F.insert(p.F.end(), F[i].begin(), F[i].end());
    p.CV.push_back(0.0);
  }
  return p;
}
std::vector<std::size_t> ids(const population& p) {
  std::vector<std::size_t> v;
  for (double x : p.X) v.push_back(std::size_t(x));
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("NSGA-III survival keeps one point per reference direction (Deb & Jain 2014 §IV-E)") {
  // 10 directions; candidates: the directions themselves (all on the simplex, so mutually
  // non-dominated) plus 10 points crowded around the centre direction. With 10 survivors every
  // niche is empty at the start, takes its closest member, and the exact directions win.
  const nat::points dirs = das_dennis(3, 3);
  nat::points F = dirs;
  nat::rng gen(4);
  for (int i = 0; i < 10; ++i) {
    std::vector<double> f{1.0 / 3 + 0.02 * (gen.uniform() - 0.5),
                          1.0 / 3 + 0.02 * (gen.uniform() - 0.5), 0.0};
    f[2] = 1.0 - f[0] - f[1];
    F.push_back(f);
  }
  // A dominated point must never survive ahead of the first front.
  F.push_back({2, 2, 2});
  std::vector<double> flat;
  for (const auto& d : dirs) flat.insert(flat.end(), d.begin(), d.end());
  detail::reference_direction_survival surv(flat, dirs.size(), 3);
  population out;
  surv(make_pop(F), 10, gen, out);
  std::vector<std::size_t> want(10);
  for (std::size_t i = 0; i < 10; ++i) want[i] = i;
  CHECK(ids(out) == want);
  // Normalisation found the unit intercepts: ideal 0, nadir 1 in every objective.
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(surv.ideal()[j] == doctest::Approx(0.0));
    CHECK(surv.nadir()[j] == doctest::Approx(1.0));
  }
}

TEST_CASE("NSGA-III survival on a scaled front still spreads over the directions") {
  // The same front with objective 2 scaled by 100: normalisation by the intercepts undoes it.
  const nat::points dirs = das_dennis(3, 3);
  nat::points F = dirs;
  for (auto& f : F) f[1] *= 100.0;
  nat::points G = F;
  nat::rng gen(5);
  for (int i = 0; i < 10; ++i) {  // extra points near the (0, 1, 0) corner
    std::vector<double> f{0.01 * gen.uniform(), 0.0, 0.0};
    f[2] = 0.01 * gen.uniform();
    f[1] = 100.0 * (1.0 - f[0] - f[2]);
    G.push_back(f);
  }
  std::vector<double> flat;
  for (const auto& d : dirs) flat.insert(flat.end(), d.begin(), d.end());
  detail::reference_direction_survival surv(flat, dirs.size(), 3);
  population out;
  surv(make_pop(G), 10, gen, out);
  std::vector<std::size_t> want(10);
  for (std::size_t i = 0; i < 10; ++i) want[i] = i;
  CHECK(ids(out) == want);
  CHECK(surv.nadir()[1] == doctest::Approx(100.0));
}

TEST_CASE("NSGA-II survival: whole fronts first, then the most isolated of the split front") {
  // Front 0: 5 points on f1 + f2 = 1 at f1 = 0, 0.1, 0.5, 0.9, 1; front 1: 3 dominated points.
  const nat::points F = {{0, 1}, {0.1, 0.9}, {0.5, 0.5}, {0.9, 0.1},
                         {1, 0}, {1, 1},     {2, 2},     {0.6, 0.6}};
  detail::rank_crowding_survival surv;
  nat::rng gen(1);
  population out;
  // 4 survivors: the two extremes (inf), then (0.5, 0.5) with crowding 0.9 + 0.9 = 1.8 beats
  // (0.1, 0.9) and (0.9, 0.1) with 0.5 + 0.5 = 1.0 each; one of those two fills the last slot.
  surv(make_pop(F), 4, gen, out);
  const auto got = ids(out);
  REQUIRE(got.size() == 4);
  CHECK(std::count(got.begin(), got.end(), 0) == 1);
  CHECK(std::count(got.begin(), got.end(), 4) == 1);
  CHECK(std::count(got.begin(), got.end(), 2) == 1);
  CHECK((std::count(got.begin(), got.end(), 1) + std::count(got.begin(), got.end(), 3)) == 1);
  // 6 survivors: all of front 0, then front 1 = {(0.6, 0.6)} ((0.6, 0.6) dominates (1, 1), which
  // dominates (2, 2)).
  surv(make_pop(F), 6, gen, out);
  std::vector<std::size_t> want{0, 1, 2, 3, 4, 7};
  CHECK(ids(out) == want);
  for (std::size_t k = 0; k < out.size(); ++k) CHECK(out.rank[k] == (out.X[k] < 5 ? 0u : 1u));
}
