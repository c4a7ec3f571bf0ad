// nat::evo vs pagmo2, side by side in one process (same machine, same load, alternating runs):
//  1. non-dominated sorting of 10,000 uniform random points with 2, 3 and 5 objectives
//     (pagmo::fast_non_dominated_sorting), fronts checked to be identical;
//  2. NSGA-II on ZDT1 (30 variables, pop 100, 250 generations) and on 3-objective DTLZ2
//     (12 variables, pop 100, 250 generations): wall time and final hypervolume of the
//     non-dominated population (pagmo::hypervolume, reference point 1.1 in every objective);
//     nat's NSGA-III on DTLZ2 is reported beside them.
// pagmo's 250 generations evolve an initial population 250 times (251 populations, 25,100
// evaluations); nat counts the initial population as generation 1, so it runs n_gen = 251 for
// the same number of evaluations.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nat/core/timer.hpp>
#include <nat/evo/evo.hpp>
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/problems/dtlz.hpp>
#include <pagmo/problems/zdt.hpp>
#include <pagmo/utils/hypervolume.hpp>
#include <pagmo/utils/multi_objective.hpp>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double hv_of(const nat::points& F, double ref) {
  // Only points inside the reference box count.
  std::vector<pagmo::vector_double> in;
  for (const auto& f : F)
    if (std::all_of(f.begin(), f.end(), [&](double v) { return v < ref; })) in.push_back(f);
  if (in.empty()) return 0.0;
  pagmo::hypervolume hv(in, false);
  return hv.compute(pagmo::vector_double(F[0].size(), ref));
}

nat::points front_of(const std::vector<pagmo::vector_double>& F) {
  const auto fronts = nat::evo::non_dominated_sort(F);
  nat::points out;
  for (auto i : fronts[0]) out.push_back(F[i]);
  return out;
}

void sorting(int repeats) {
  std::printf("\n## Non-dominated sorting, 10,000 uniform random points\n");
  std::printf("| objectives | fronts | pagmo fast_non_dominated_sorting (ms) | nat non_dominated_sort (ms) | speed-up |\n|---|---|---|---|---|\n");
  for (std::size_t m : {2u, 3u, 5u}) {
    nat::rng gen(100 + m);
    std::vector<pagmo::vector_double> P(10000, pagmo::vector_double(m));
    for (auto& r : P)
      for (double& v : r) v = gen.uniform();
    std::vector<double> tp, tn;
    std::size_t nf = 0;
    for (int rep = 0; rep < repeats; ++rep) {
      nat::timer t1;
      auto pg = pagmo::fast_non_dominated_sorting(P);
      tp.push_back(t1.seconds());
      nat::timer t2;
      auto nt = nat::evo::non_dominated_sort(P);
      tn.push_back(t2.seconds());
      auto& pf = std::get<0>(pg);
      if (pf.size() != nt.size()) {
        std::printf("MISMATCH in number of fronts\n");
        std::exit(1);
      }
      for (std::size_t k = 0; k < pf.size(); ++k) {
        std::vector<std::size_t> a(pf[k].begin(), pf[k].end());
        std::sort(a.begin(), a.end());
        if (a != nt[k]) {
          std::printf("MISMATCH in front %zu\n", k);
          std::exit(1);
        }
      }
      nf = nt.size();
    }
    const double mp = median(tp) * 1e3, mn = median(tn) * 1e3;
    std::printf("| %zu | %zu | %.2f | %.3f | %.1fx |\n", m, nf, mp, mn, mp / mn);
  }
}

void nsga2_run(const char* name, const pagmo::problem& pprob, const nat::evo::problem& nprob,
               double ref, int repeats, bool with_nsga3) {
  std::vector<double> tp, tn, hp, hn, t3, h3;
  const nat::points dirs = nat::evo::das_dennis(3, 12);
  for (int rep = 0; rep < repeats; ++rep) {
    const unsigned seed = 1000u + rep;
    nat::timer t1;
    pagmo::population pop(pprob, 100u, seed);
    pagmo::algorithm algo(pagmo::nsga2(250u, 0.95, 10., 0.01, 50., seed));
    pop = algo.evolve(pop);
    tp.push_back(t1.seconds());
    hp.push_back(hv_of(front_of(pop.get_f()), ref));

    nat::timer t2;
    const auto r = nat::evo::nsga2().solve(nprob, 251, seed);
    tn.push_back(t2.seconds());
    hn.push_back(hv_of(r.F, ref));
    if (with_nsga3) {
      nat::evo::nsga3_params p3;
      p3.pop_size = 100;
      nat::timer t3t;
      const auto r3 = nat::evo::nsga3(p3, dirs).solve(nprob, 251, seed);
      t3.push_back(t3t.seconds());
      h3.push_back(hv_of(r3.F, ref));
    }
  }
  const double mp = median(tp) * 1e3, mn = median(tn) * 1e3;
  std::printf("| %s | pagmo nsga2 | %.1f | %.4f | 1.00 |\n", name, mp, median(hp));
  std::printf("| %s | nat nsga2 | %.1f | %.4f | %.2f |\n", name, mn, median(hn), mn / mp);
  if (with_nsga3)
    std::printf("| %s | nat nsga3 (91 Das-Dennis dirs, pop 100) | %.1f | %.4f | %.2f |\n", name,
                median(t3) * 1e3, median(h3), median(t3) * 1e3 / mp);
  std::printf("  (%s: %d runs, HV min/max pagmo %.4f/%.4f, nat nsga2 %.4f/%.4f)\n", name, repeats,
              *std::min_element(hp.begin(), hp.end()), *std::max_element(hp.begin(), hp.end()),
              *std::min_element(hn.begin(), hn.end()), *std::max_element(hn.begin(), hn.end()));
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 7;
  std::printf("nat::evo vs pagmo %s, compiler %s, %d repeats (medians)\n", PAGMO_VERSION,
              __VERSION__, repeats);
  sorting(repeats);
  std::printf("\n## NSGA-II, pop 100, 25,100 evaluations, HV reference point 1.1\n");
  std::printf("| problem | algorithm | wall (ms) | final HV | time / pagmo |\n|---|---|---|---|---|\n");
  nsga2_run("ZDT1 (30 var)", pagmo::problem(pagmo::zdt(1u, 30u)), nat::evo::zdt1(30), 1.1, repeats,
            false);
  nsga2_run("DTLZ2 (3 obj, 12 var)", pagmo::problem(pagmo::dtlz(2u, 12u, 3u)), nat::evo::dtlz2(3, 12),
            1.1, repeats, true);
  return 0;
}
