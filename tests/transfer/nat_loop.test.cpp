#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <nat/transfer/nat_loop.hpp>
#include <string>

namespace {

struct crash : std::runtime_error {
  crash() : std::runtime_error("simulated kill") {}
};

// A task with a known answer: accuracy grows with depth, kernel and expand size (diminishing
// returns) and with resolution; each adaptation adds 0.1 points to every subnet. MACs grow with the
// same quantities, so the two objectives conflict. `crash_after` simulates a kill.
struct synthetic_task : nat::transfer::task {
  int adaptations = 0;
  int evaluations = 0;
  int crash_after = -1;
  std::string crash_in = "evaluate";

  double capacity(const nat::subnet_config& c) const {
    double s = 0;
    for (std::size_t i = 0; i < c.ks.size(); ++i) s += c.ks[i] * c.ks[i] * c.e[i];
    return s * c.r * c.r / 1024.0;
  }
  double evaluate(const nat::subnet_config& c) override {
    if (crash_in == "evaluate" && crash_after >= 0 && evaluations >= crash_after) throw crash();
    ++evaluations;
    return 80.0 + 15.0 * (1.0 - std::exp(-capacity(c) / 400.0)) + 0.1 * adaptations;
  }
  double cost(const std::string& name, const nat::subnet_config& c) override {
    if (name == "macs") return 1e4 * capacity(c);
    if (name == "params") return static_cast<double>(c.ks.size()) * 1e3 + c.e[0];
    throw nat::config_error("synthetic_task: unknown objective " + name);
  }
  void adapt(const std::function<nat::subnet_config(nat::rng&)>& sample, std::size_t,
             std::uint64_t seed) override {
    if (crash_in == "adapt" && crash_after >= 0) throw crash();
    nat::rng g(seed);
    for (int i = 0; i < 5; ++i) sample(g).validate();
    ++adaptations;
  }
  void save_state(const std::string& dir) override {
    nat::make_dirs(dir);
    nat::write_file_atomic(dir + "/state", std::to_string(adaptations));
  }
  bool load_state(const std::string& dir) override {
    if (!nat::file_exists(dir + "/state")) return false;
    adaptations = std::stoi(nat::read_file(dir + "/state"));
    return true;
  }
};

nat::transfer::nat_config small_config(const std::vector<std::string>& objectives) {
  auto c = nat::transfer::quick_preset();
  c.objectives = objectives;
  c.surrogate = "rbf";
  c.n_doe = 30;
  c.n_iterations = 3;
  c.n_candidates = 4;
  c.search.pop_size = 20;
  c.search.n_gen = 5;
  c.search.subset_pop_size = 30;
  c.search.subset_n_gen = 10;
  c.adaptation.top_n = 10;
  c.seed = 5;
  return c;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = "/tmp/nat_loop_test_" + std::to_string(::getpid()) + "_" + name;
  std::system(("rm -rf " + d).c_str());
  return d;
}

}  // namespace

TEST_CASE("NAT loop on a synthetic task: budget, front, monotone hypervolume, surrogate records") {
  const auto space = nat::search::make_space("small");
  const auto cfg = small_config({"err", "macs"});
  synthetic_task t;
  const auto dir = fresh_dir("basic");
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  const auto res = nat::transfer::run_nat(cfg, t, space, dir, cb);
  nat::transfer::archive a(dir + "/archive.jsonl");
  CHECK(a.size() == cfg.n_doe + cfg.n_iterations * cfg.n_candidates);
  CHECK(t.adaptations == 3);
  REQUIRE(res.hypervolume.size() == 4);
  for (std::size_t i = 1; i < res.hypervolume.size(); ++i)
    CHECK(res.hypervolume[i] >= res.hypervolume[i - 1]);
  CHECK(res.surrogate.size() == 3);
  CHECK(!res.front.empty());
  // Every archive member has been re-evaluated with the final supernet.
  for (const auto& e : a.entries()) CHECK(e.evaluated_at == 3);
  // The front is non-dominated and holds the smallest subnet (lowest MACs overall).
  double min_macs = 1e300;
  std::size_t argmin = 0;
  for (const auto& e : a.entries())
    if (e.cost("macs") < min_macs) min_macs = e.cost("macs"), argmin = e.id;
  CHECK(std::find(res.front.begin(), res.front.end(), argmin) != res.front.end());
}

TEST_CASE("NAT loop resumes after a kill at any phase and ends where an uninterrupted run ends") {
  const auto space = nat::search::make_space("small");
  const auto cfg = small_config({"err", "macs", "params"});
  synthetic_task ref_task;
  const auto ref_dir = fresh_dir("ref");
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  nat::transfer::run_nat(cfg, ref_task, space, ref_dir, cb);

  for (int kill_at : {10, 31, 36, 47, 75}) {
    CAPTURE(kill_at);
    const auto dir = fresh_dir("kill" + std::to_string(kill_at));
    synthetic_task first;
    first.crash_after = kill_at;
    CHECK_THROWS_AS(nat::transfer::run_nat(cfg, first, space, dir, cb), crash);
    synthetic_task second;  // a new process: state comes only from the run directory
    nat::transfer::run_nat(cfg, second, space, dir, cb);
    nat::transfer::archive a(dir + "/archive.jsonl"), r(ref_dir + "/archive.jsonl");
    REQUIRE(a.size() == r.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].genome == r[i].genome);
      CHECK(a[i].val_acc == r[i].val_acc);
    }
    CHECK(second.adaptations == ref_task.adaptations);
  }
  // A kill inside the adaptation phase.
  const auto dir = fresh_dir("kill_adapt");
  synthetic_task first;
  first.crash_in = "adapt";
  first.crash_after = 0;
  CHECK_THROWS_AS(nat::transfer::run_nat(cfg, first, space, dir, cb), crash);
  synthetic_task second;
  nat::transfer::run_nat(cfg, second, space, dir, cb);
  nat::transfer::archive a(dir + "/archive.jsonl"), r(ref_dir + "/archive.jsonl");
  REQUIRE(a.size() == r.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].val_acc == r[i].val_acc);
}

TEST_CASE("NAT loop: a changed config or a corrupt state file is a clear error; random search") {
  const auto space = nat::search::make_space("small");
  auto cfg = small_config({"err", "macs"});
  cfg.n_iterations = 1;
  const auto dir = fresh_dir("errors");
  synthetic_task t;
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  nat::transfer::run_nat(cfg, t, space, dir, cb);
  auto other = cfg;
  other.n_candidates = 5;
  CHECK_THROWS_WITH_AS(nat::transfer::run_nat(other, t, space, dir, cb),
                       doctest::Contains("different settings"), nat::config_error);
  nat::write_file_atomic(dir + "/state.json", "{\"iteration\": 1, ");
  CHECK_THROWS_WITH_AS(nat::transfer::run_nat(cfg, t, space, dir, cb), doctest::Contains("corrupt"),
                       nat::io_error);

  auto rnd = cfg;
  rnd.algorithm = "random";
  synthetic_task rt;
  const auto rdir = fresh_dir("random");
  nat::transfer::run_nat(rnd, rt, space, rdir, cb);
  CHECK(nat::transfer::archive(rdir + "/archive.jsonl").size() == rnd.n_doe + rnd.n_candidates);
  CHECK(rt.adaptations == 0);
}
