// Fit + predict time and ranking quality of nat::surrogate on the shared NAS-like set, to be read
// side by side with benchmarks/compare/sklearn_surrogate.py (docs/performance/surrogate.md).
// Counters: tau (Kendall tau-b on the 500-row test split) and rmse.
#include <fstream>
#include <memory>
#include <nat/metrics/correlation.hpp>
#include <nat/surrogate/surrogate.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench_main.hpp"

namespace {

struct split {
  nat::points X;
  std::vector<double> y;
};

// Columns x0..x21, y, y_clean; inputs scaled by their fixed ranges (x0/4, x1/1, genes/9).
split load(const std::string& name) {
  std::ifstream in(std::string(NAT_SHARED_DIR) + "/data/surrogate/" + name);
  if (!in) throw std::runtime_error("bm_surrogate: cannot open " + name);
  std::string line;
  std::getline(in, line);
  split s;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> row;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    std::vector<double> x(row.begin(), row.begin() + 22);
    x[0] /= 4;
    for (int j = 2; j < 22; ++j) x[j] /= 9;
    s.X.push_back(x);
    s.y.push_back(row[22]);
  }
  return s;
}

const split& train() {
  static const split s = load("surrogate_train.csv");
  return s;
}
const split& test() {
  static const split s = load("surrogate_test.csv");
  return s;
}
// 300 training rows: the first 300 test rows (as the Python side does).
const split& train300() {
  static const split s = [] {
    split t;
    t.X.assign(test().X.begin(), test().X.begin() + 300);
    t.y.assign(test().y.begin(), test().y.begin() + 300);
    return t;
  }();
  return s;
}

std::unique_ptr<nat::surrogate::regressor> make(const std::string& name) {
  using namespace nat::surrogate;
  if (name == "rbf_thin_plate") {
    rbf_params p;
    p.kernel = rbf_kernel::thin_plate;
    return std::make_unique<rbf>(p);
  }
  if (name == "gp_ard") {
    gp_params p;
    p.isotropic = false;
    return std::make_unique<gaussian_process>(0, p);
  }
  if (name == "gp_matern52") {
    gp_params p;
    p.kernel = gp_kernel::matern52;
    return std::make_unique<gaussian_process>(0, p);
  }
  return make_regressor(name, 0);
}

void fit_predict(benchmark::State& state, const std::string& name, const split& tr) {
  std::vector<double> pred;
  for (auto _ : state) {
    auto m = make(name);
    m->fit(tr.X, tr.y);
    pred = m->predict(test().X);
    benchmark::DoNotOptimize(pred.data());
  }
  state.counters["tau"] = nat::metrics::kendall_tau(pred, test().y);
  state.counters["rmse"] = nat::metrics::rmse(pred, test().y);
}

// Fit only, with the process CPU time (all threads) beside the wall time: on a loaded machine the
// CPU time divided by the thread count is what an idle machine's wall time would be.
void fit_only(benchmark::State& state, const std::string& name, const split& tr) {
  for (auto _ : state) {
    auto m = make(name);
    m->fit(tr.X, tr.y);
    benchmark::ClobberMemory();
  }
}

void register_all() {
  for (const char* n : {"rbf", "rbf_thin_plate", "rbf_ensemble", "gp", "gp_matern52", "gp_ard",
                        "cart", "cart_ensemble", "mlp", "as"})
    benchmark::RegisterBenchmark((std::string("fit_predict/train100/") + n).c_str(),
                                 [n](benchmark::State& s) { fit_predict(s, n, train()); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  for (const char* n : {"gp", "rbf_ensemble"})
    benchmark::RegisterBenchmark((std::string("fit_predict/train300/") + n).c_str(),
                                 [n](benchmark::State& s) { fit_predict(s, n, train300()); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  for (const char* n : {"gp", "rbf_ensemble"})
    benchmark::RegisterBenchmark((std::string("fit/train300/") + n).c_str(),
                                 [n](benchmark::State& s) { fit_only(s, n, train300()); })
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
}

const int registered = (register_all(), 0);

}  // namespace

NAT_BENCHMARK_MAIN()
