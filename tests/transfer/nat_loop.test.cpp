#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
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
  void count_evaluation() {
    if (crash_in == "evaluate" && crash_after >= 0 && evaluations >= crash_after) throw crash();
    ++evaluations;
  }
  double evaluate(const nat::subnet_config& c) override {
    count_evaluation();
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

// A second dataset: accuracy follows kernel sizes and falls with expand ratios, ignores resolution,
// so it conflicts with the first task's accuracy as well as with MACs. `weight` varies it across
// datasets; each adaptation adds 0.2 points.
struct other_task : synthetic_task {
  double weight = 0.5;
  double evaluate(const nat::subnet_config& c) override {
    count_evaluation();
    double s = 0;
    for (std::size_t i = 0; i < c.ks.size(); ++i) s += c.ks[i] - weight * c.e[i];
    return 60.0 + 30.0 * (1.0 - std::exp(-std::max(0.0, s) / 30.0)) + 0.2 * adaptations;
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

// Removes this process's run directories when the test program exits (each run has its own pid,
// so they would otherwise pile up in /tmp); NAT_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
struct run_dir_cleanup {
  ~run_dir_cleanup() {
    const char* keep = std::getenv("NAT_KEEP_TEST_DIRS");
    if (keep == nullptr || std::string(keep) != "1")
      std::system(("rm -rf /tmp/nat_loop_test_" + std::to_string(::getpid()) + "_*").c_str());
  }
};

std::string fresh_dir(const std::string& name) {
  static run_dir_cleanup cleanup;
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
  // Single-dataset lines keep their format (no per-task accuracies).
  CHECK(nat::read_file(dir + "/archive.jsonl").find("val_accs") == std::string::npos);
  // Every archive member, the last candidates included, has been re-evaluated with the final
  // supernet (nat_spec.md §2).
  synthetic_task probe;
  probe.adaptations = 3;
  for (const auto& e : a.entries()) {
    CHECK(e.evaluated_at == 3);
    CHECK(e.val_acc == doctest::Approx(probe.evaluate(e.config)));
  }
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

namespace {
bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] > b[j]) return false;
    better = better || a[j] < b[j];
  }
  return better;
}
}  // namespace

TEST_CASE("NAT loop with accuracy on two datasets (err, macs, err:b)") {
  const auto space = nat::search::make_space("small");
  const auto cfg = small_config({"err", "macs", "err:b"});
  synthetic_task ta;
  other_task tb;
  const auto dir = fresh_dir("multi");
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  const auto res = nat::transfer::run_nat(cfg, ta, {{"b", &tb}}, space, dir, cb);
  nat::transfer::archive a(dir + "/archive.jsonl");
  REQUIRE(a.size() == cfg.n_doe + cfg.n_iterations * cfg.n_candidates);
  // Both tasks were adapted every iteration, each saved its state in its own directory.
  CHECK(ta.adaptations == 3);
  CHECK(tb.adaptations == 3);
  CHECK(nat::file_exists(dir + "/supernet/state"));
  CHECK(nat::read_file(dir + "/tasks/b/state") == "3");
  // Every line carries both accuracies; after the last re-evaluation they are the final weights'.
  const std::string text = nat::read_file(dir + "/archive.jsonl");
  CHECK(text.find("\"val_accs\":{\"b\":") != std::string::npos);
  synthetic_task pa;
  other_task pb;
  pa.adaptations = pb.adaptations = 3;
  for (const auto& e : a.entries()) {
    CHECK(e.evaluated_at == 3);
    REQUIRE(e.task_accs.size() == 1);
    CHECK(e.val_acc == doctest::Approx(pa.evaluate(e.config)));
    CHECK(e.accuracy("b") == doctest::Approx(pb.evaluate(e.config)));
  }
  // One surrogate per accuracy objective, with quality records for each.
  REQUIRE(res.surrogate.size() == 2 * cfg.n_iterations);
  for (std::size_t i = 0; i < res.surrogate.size(); ++i) {
    CHECK(res.surrogate[i].iteration == 1 + i / 2);
    CHECK(res.surrogate[i].objective == (i % 2 ? "err:b" : "err"));
    CHECK(std::isfinite(res.surrogate[i].rmse));
  }
  // Hypervolume and its reference point are over all three objectives.
  CHECK(res.ref_point.size() == 3);
  REQUIRE(res.hypervolume.size() == 4);
  for (std::size_t i = 1; i < res.hypervolume.size(); ++i)
    CHECK(res.hypervolume[i] >= res.hypervolume[i - 1]);
  // The front is exactly the non-dominated set in (err, macs, err:b).
  std::vector<std::vector<double>> rows;
  for (const auto& e : a.entries())
    rows.push_back({e.objective("err"), e.objective("macs"), e.objective("err:b")});
  REQUIRE(!res.front.empty());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    bool dominated = false;
    for (const auto& r : rows) dominated = dominated || dominates(r, rows[i]);
    const bool in_front = std::find(res.front.begin(), res.front.end(), i) != res.front.end();
    CHECK(in_front == !dominated);
  }
  // The best subnet on b (which ignores resolution) is on the front although it is not the best
  // on the primary task.
  std::size_t best_b = 0;
  for (const auto& e : a.entries())
    if (e.accuracy("b") > a[best_b].accuracy("b")) best_b = e.id;
  CHECK(std::find(res.front.begin(), res.front.end(), best_b) != res.front.end());
}

TEST_CASE("NAT loop with two datasets resumes after a kill in either task at any phase") {
  const auto space = nat::search::make_space("small");
  const auto cfg = small_config({"err", "macs", "err:b"});
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  synthetic_task ref_a;
  other_task ref_b;
  const auto ref_dir = fresh_dir("multi_ref");
  nat::transfer::run_nat(cfg, ref_a, {{"b", &ref_b}}, space, ref_dir, cb);
  nat::transfer::archive r(ref_dir + "/archive.jsonl");

  struct kill {
    bool in_b;
    std::string where;
    int after;
  };
  // Initial archive, candidates of iteration 1, its re-evaluation, iteration 3, and adaptation
  // of either task (b's comes after the primary task has been adapted and saved).
  for (const auto& k :
       {kill{false, "evaluate", 10}, kill{true, "evaluate", 31}, kill{true, "evaluate", 47},
        kill{false, "evaluate", 75}, kill{true, "evaluate", 120}, kill{false, "adapt", 0},
        kill{true, "adapt", 0}}) {
    CAPTURE(k.in_b);
    CAPTURE(k.where);
    CAPTURE(k.after);
    const auto dir = fresh_dir("multi_kill");
    synthetic_task first_a;
    other_task first_b;
    auto& victim = k.in_b ? static_cast<synthetic_task&>(first_b) : first_a;
    victim.crash_in = k.where;
    victim.crash_after = k.after;
    CHECK_THROWS_AS(nat::transfer::run_nat(cfg, first_a, {{"b", &first_b}}, space, dir, cb), crash);
    synthetic_task second_a;  // a new process: state comes only from the run directory
    other_task second_b;
    nat::transfer::run_nat(cfg, second_a, {{"b", &second_b}}, space, dir, cb);
    nat::transfer::archive a(dir + "/archive.jsonl");
    REQUIRE(a.size() == r.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].genome == r[i].genome);
      CHECK(a[i].val_acc == r[i].val_acc);
      CHECK(a[i].accuracy("b") == r[i].accuracy("b"));
    }
    CHECK(second_a.adaptations == ref_a.adaptations);
    CHECK(second_b.adaptations == ref_b.adaptations);
  }
}

TEST_CASE("NAT loop: err:<name> objectives and extra tasks must match one to one") {
  const auto space = nat::search::make_space("small");
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  synthetic_task ta;
  other_task tb;
  const auto dir = fresh_dir("multi_errors");
  CHECK_THROWS_WITH_AS(
      nat::transfer::run_nat(small_config({"err", "macs", "err:x"}), ta, {{"b", &tb}}, space, dir,
                             cb),
      doctest::Contains("objective \"err:x\" needs a task named \"x\" among the extra tasks "
                        "(given: b)"),
      nat::config_error);
  CHECK_THROWS_WITH_AS(
      nat::transfer::run_nat(small_config({"err", "macs", "err:x"}), ta, space, dir, cb),
      doctest::Contains("(given: none)"), nat::config_error);
  CHECK_THROWS_WITH_AS(
      nat::transfer::run_nat(small_config({"err", "macs"}), ta, {{"b", &tb}}, space, dir, cb),
      doctest::Contains("task \"b\" is given but no objective \"err:b\" uses it"),
      nat::config_error);
  CHECK_THROWS_WITH_AS(
      nat::transfer::run_nat(small_config({"err", "err:b"}), ta, {{"b", nullptr}}, space, dir, cb),
      doctest::Contains("null"), nat::config_error);
  // Two names that would share one state directory.
  other_task tc;
  CHECK_THROWS_WITH_AS(nat::transfer::run_nat(small_config({"err", "err:a/b", "err:a_b"}), ta,
                                              {{"a/b", &tb}, {"a_b", &tc}}, space, dir, cb),
                       doctest::Contains("state directory"), nat::config_error);
  CHECK(!nat::file_exists(dir));  // nothing is written before the checks pass
  CHECK(ta.evaluations == 0);
}

TEST_CASE("NAT loop: errors only (err, err:b) and 12 objectives (MACs + top-1 on 11 datasets)") {
  const auto space = nat::search::make_space("small");
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  {
    auto cfg = small_config({"err", "err:b"});
    cfg.n_iterations = 2;
    synthetic_task ta;
    other_task tb;
    const auto dir = fresh_dir("errors_only");
    const auto res = nat::transfer::run_nat(cfg, ta, {{"b", &tb}}, space, dir, cb);
    CHECK(nat::transfer::archive(dir + "/archive.jsonl").size() ==
          cfg.n_doe + cfg.n_iterations * cfg.n_candidates);
    CHECK(res.hypervolume.size() == 3);
  }
  {
    auto cfg = small_config({"err", "macs", "err:b"});
    cfg.algorithm = "random";
    synthetic_task ta;
    other_task tb;
    const auto dir = fresh_dir("random_multi");
    nat::transfer::run_nat(cfg, ta, {{"b", &tb}}, space, dir, cb);
    nat::transfer::archive a(dir + "/archive.jsonl");
    CHECK(a.size() == cfg.n_doe + cfg.n_iterations * cfg.n_candidates);
    for (const auto& e : a.entries()) CHECK(e.task_accs.size() == 1);
    CHECK(tb.evaluations == static_cast<int>(a.size()));
    CHECK(tb.adaptations == 0);
  }
  std::vector<std::string> objectives{"err", "macs"};
  std::vector<other_task> others(10);
  std::map<std::string, nat::transfer::task*> extra;
  for (std::size_t i = 0; i < others.size(); ++i) {
    others[i].weight = 0.1 * static_cast<double>(i);
    const std::string name = "d" + std::to_string(i);
    objectives.push_back("err:" + name);
    extra[name] = &others[i];
  }
  auto cfg = small_config(objectives);
  cfg.n_iterations = 1;
  synthetic_task ta;
  const auto dir = fresh_dir("twelve");
  const auto res = nat::transfer::run_nat(cfg, ta, extra, space, dir, cb);
  nat::transfer::archive a(dir + "/archive.jsonl");
  CHECK(a.size() == cfg.n_doe + cfg.n_candidates);
  CHECK(a[0].task_accs.size() == 10);
  CHECK(res.surrogate.size() == 11);
  CHECK(res.ref_point.size() == 12);
  REQUIRE(res.hypervolume.size() == 2);  // a Monte Carlo estimate beyond 8 objectives
  for (double hv : res.hypervolume) CHECK((hv > 0 && hv <= 1));
  for (const auto& t : others) CHECK(t.adaptations == 1);
}
