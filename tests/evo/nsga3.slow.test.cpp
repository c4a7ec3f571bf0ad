#include <doctest/doctest.h>

#include <nat/evo/evo.hpp>

using namespace nat::evo;
using nat::points;

// Deb & Jain 2014, Table I-III: DTLZ1 400 / 600 generations and DTLZ2 250 / 350 generations for
// 3 / 5 objectives, populations 92 / 212 on 91 / 210 Das-Dennis directions (12 / 6 partitions).
// IGD is measured against the directions' intersections with the true front, as in the paper.
TEST_CASE("nsga3 reaches IGD < 0.05 on DTLZ1 and DTLZ2 with 3 and 5 objectives") {
  struct tc {
    int dtlz;
    std::size_t m, partitions, pop, gens;
  };
  for (const tc& c : {tc{1, 3, 12, 92, 400}, tc{1, 5, 6, 212, 600}, tc{2, 3, 12, 92, 250},
                      tc{2, 5, 6, 212, 350}}) {
    const points dirs = das_dennis(c.m, c.partitions);
    nsga3_params p;
    p.pop_size = c.pop;
    const problem prob = c.dtlz == 1 ? dtlz1(c.m) : dtlz2(c.m);
    const result r = nsga3(p, dirs).solve(prob, c.gens, 2021);
    const points target =
        c.dtlz == 1 ? dtlz1_front(c.m, dirs.size()) : dtlz2_front(c.m, dirs.size());
    const double igd = detail::igd(r.F, target);
    MESSAGE("DTLZ" << c.dtlz << " with " << c.m << " objectives: IGD " << igd << ", " << r.F.size()
                   << " non-dominated");
    CHECK(igd < 0.05);
  }
}

TEST_CASE("nsga2 on ZDT4 and ZDT6 and nsga3 on DTLZ3, DTLZ4, DTLZ7 make progress") {
  const result r4 = nsga2().solve(zdt4(), 400, 1);
  CHECK(detail::igd(r4.F, zdt1_front()) < 0.05);
  const result r6 = nsga2().solve(zdt6(), 400, 1);
  CHECK(detail::igd(r6.F, zdt6_front()) < 0.05);
  nsga3_params p;
  p.pop_size = 92;
  const points dirs = das_dennis(3, 12);
  const result d3 = nsga3(p, dirs).solve(dtlz3(3), 1000, 1);
  CHECK(detail::igd(d3.F, dtlz2_front(3, 91)) < 0.05);
  const result d4 = nsga3(p, dirs).solve(dtlz4(3), 600, 1);
  CHECK(detail::igd(d4.F, dtlz2_front(3, 91)) < 0.05);
  const result d7 = nsga3(p, dirs).solve(dtlz7(3), 400, 1);
  // DTLZ7's front is disconnected: directions do not all hit it, so compare with the dense front.
  CHECK(detail::igd(d7.F, dtlz7_front(3)) < 0.1);
}
