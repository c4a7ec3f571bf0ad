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
#include <ctime>
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

// CPU time of this thread: less disturbed than wall time on a machine shared with other jobs.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct stopwatch {
  nat::timer wall;
  double cpu0 = cpu_seconds();
  void stop(std::vector<double>& w, std::vector<double>& c) {
    w.push_back(wall.seconds());
    c.push_back(cpu_seconds() - cpu0);
  }
};

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
  std::printf(
      "| objectives | fronts | pagmo fast_non_dominated_sorting wall / CPU (ms) | nat "
      "non_dominated_sort wall / CPU (ms) | speed-up wall / CPU |\n|---|---|---|---|---|\n");
  for (std::size_t m : {2u, 3u, 5u}) {
    nat::rng gen(100 + m);
    std::vector<pagmo::vector_double> P(10000, pagmo::vector_double(m));
    for (auto& r : P)
      for (double& v : r) v = gen.uniform();
    std::vector<double> tp, tn, cp, cn;
    std::size_t nf = 0;
    for (int rep = 0; rep < repeats; ++rep) {
      stopwatch t1;
      auto pg = pagmo::fast_non_dominated_sorting(P);
      t1.stop(tp, cp);
      stopwatch t2;
      auto nt = nat::evo::non_dominated_sort(P);
      t2.stop(tn, cn);
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
    const double mcp = median(cp) * 1e3, mcn = median(cn) * 1e3;
    std::printf("| %zu | %zu | %.1f / %.1f | %.2f / %.2f | %.1fx / %.1fx |\n", m, nf, mp, mcp, mn,
                mcn, mp / mn, mcp / mcn);
  }
}

struct series {
  std::vector<double> wall, cpu, hv;
};

void report(const char* name, const char* algo, const series& x, const series& base) {
  const double w = median(x.wall) * 1e3, c = median(x.cpu) * 1e3;
  const double bw = median(base.wall) * 1e3, bc = median(base.cpu) * 1e3;
  std::printf("| %s | %s | %.1f | %.1f | %.4f (%.4f-%.4f) | %.2f | %.2f |\n", name, algo, w, c,
              median(x.hv), *std::min_element(x.hv.begin(), x.hv.end()),
              *std::max_element(x.hv.begin(), x.hv.end()), w / bw, c / bc);
}

// Runs pagmo's NSGA-II, nat's NSGA-II with its pymoo defaults, nat's NSGA-II with pagmo's operator
// settings (SBX p 0.95 eta 10, mutation p 0.01 eta 50) and optionally nat's NSGA-III, alternating
// within each repeat so that all see the same machine load.
void algorithms(const char* name, const pagmo::problem& pprob, const nat::evo::problem& nprob,
                double ref, int repeats, bool with_nsga3) {
  series pg, nd, np, n3;
  const nat::points dirs = nat::evo::das_dennis(3, 12);
  nat::evo::nsga2_params same;
  same.crossover = {nat::evo::crossover_kind::sbx, 0.95, 10.0};
  same.mutation = {true, 50.0, 0.01};
  for (int rep = 0; rep < repeats; ++rep) {
    const unsigned seed = 1000u + rep;
    {
      stopwatch t;
      pagmo::population pop(pprob, 100u, seed);
      pagmo::algorithm algo(pagmo::nsga2(250u, 0.95, 10., 0.01, 50., seed));
      pop = algo.evolve(pop);
      t.stop(pg.wall, pg.cpu);
      pg.hv.push_back(hv_of(front_of(pop.get_f()), ref));
    }
    {
      stopwatch t;
      const auto r = nat::evo::nsga2().solve(nprob, 251, seed);
      t.stop(nd.wall, nd.cpu);
      nd.hv.push_back(hv_of(r.F, ref));
    }
    {
      stopwatch t;
      const auto r = nat::evo::nsga2(same).solve(nprob, 251, seed);
      t.stop(np.wall, np.cpu);
      np.hv.push_back(hv_of(r.F, ref));
    }
    if (with_nsga3) {
      nat::evo::nsga3_params p3;
      p3.pop_size = 100;
      stopwatch t;
      const auto r = nat::evo::nsga3(p3, dirs).solve(nprob, 251, seed);
      t.stop(n3.wall, n3.cpu);
      n3.hv.push_back(hv_of(r.F, ref));
    }
  }
  report(name, "pagmo nsga2", pg, pg);
  report(name, "nat nsga2 (pymoo defaults)", nd, pg);
  report(name, "nat nsga2 (pagmo's settings)", np, pg);
  if (with_nsga3) report(name, "nat nsga3 (91 Das-Dennis dirs, pop 100)", n3, pg);
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 7;
  std::printf("nat::evo vs pagmo %s, compiler %s, %d repeats (medians)\n", PAGMO_VERSION,
              __VERSION__, repeats);
  sorting(repeats);
  std::printf("\n## NSGA-II, pop 100, 25,100 evaluations, HV reference point 1.1\n");
  std::printf(
      "| problem | algorithm | wall (ms) | CPU (ms) | final HV median (min-max) | wall / pagmo | "
      "CPU / pagmo |\n|---|---|---|---|---|---|---|\n");
  algorithms("ZDT1 (30 var)", pagmo::problem(pagmo::zdt(1u, 30u)), nat::evo::zdt1(30), 1.1, repeats,
             false);
  algorithms("DTLZ2 (3 obj, 12 var)", pagmo::problem(pagmo::dtlz(2u, 12u, 3u)),
             nat::evo::dtlz2(3, 12), 1.1, repeats, true);
  return 0;
}
