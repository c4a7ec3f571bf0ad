#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nat/transfer/supernet_task.hpp>
#include <set>
#include <string>
#include <vector>

#include "../common/tiny_task.hpp"

namespace {

using nat_test::tiny_data;
using nat_test::tiny_layout;

nat::transfer::nat_config tiny_run() {
  auto c = nat::transfer::quick_preset();
  c.surrogate = "rbf";
  c.n_doe = 12;
  c.n_iterations = 2;
  c.n_candidates = 2;
  c.search.pop_size = 10;
  c.search.n_gen = 3;
  c.search.subset_pop_size = 10;
  c.search.subset_n_gen = 5;
  c.adaptation.top_n = 6;
  c.adaptation.batch_size = 16;
  c.adaptation.subnets_per_step = 2;
  c.adaptation.max_steps_per_epoch = 3;
  c.evaluation.bn_calibration_images = 32;
  c.evaluation.bn_calibration_batch = 16;
  c.evaluation.eval_batch = 32;
  return c;
}

}  // namespace

TEST_CASE("supernet task: NAT on a tiny supernet runs end to end and resumes to the same archive") {
  const auto train = tiny_data(96, 1), val = tiny_data(48, 2);
  const nat::search::dynamic_mbv3_space space({12, 16}, {1.0}, {3, 5, 7}, {3, 4, 6}, 2, 4, 2,
                                              "tiny");
  const auto cfg = tiny_run();
  nat::data::transform_config tf;
  nat::transfer::nat_callbacks cb;
  cb.quiet = true;
  auto run = [&](const std::string& dir, int kill_after_evals) {
    nat::elastic::supernet net(tiny_layout(), 5);
    nat::transfer::supernet_task t(net, train, val, tf, cfg);
    t.set_quiet(true);
    struct killing_task : nat::transfer::task {
      nat::transfer::task& inner;
      int left;
      killing_task(nat::transfer::task& t, int n) : inner(t), left(n) {}
      double evaluate(const nat::subnet_config& c) override {
        if (left-- == 0) throw std::runtime_error("killed");
        return inner.evaluate(c);
      }
      double cost(const std::string& o, const nat::subnet_config& c) override {
        return inner.cost(o, c);
      }
      void adapt(const std::function<nat::subnet_config(nat::rng&)>& s, std::size_t i,
                 std::uint64_t seed) override {
        inner.adapt(s, i, seed);
      }
      void save_state(const std::string& d) override { inner.save_state(d); }
      bool load_state(const std::string& d) override { return inner.load_state(d); }
    } k(t, kill_after_evals);
    return nat::transfer::run_nat(cfg, k, space, dir, cb);
  };
  const std::string base = "/tmp/nat_supernet_task_" + std::to_string(::getpid());
  std::system(("rm -rf " + base + "_a " + base + "_b").c_str());
  const auto res = run(base + "_a", -1);
  nat::transfer::archive a(base + "_a/archive.jsonl");
  CHECK(a.size() == cfg.n_doe + cfg.n_iterations * cfg.n_candidates);
  for (const auto& e : a.entries()) {
    CHECK(e.val_acc >= 0.0);
    CHECK(e.val_acc <= 100.0);
    CHECK(e.cost("macs") > 0);
  }
  CHECK(res.hypervolume.size() == cfg.n_iterations + 1);
  // Killed after the initial archive plus the first candidate, during iteration 1; then resumed.
  CHECK_THROWS(run(base + "_b", static_cast<int>(cfg.n_doe) + 1));
  run(base + "_b", -1);
  nat::transfer::archive b(base + "_b/archive.jsonl");
  REQUIRE(b.size() == a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(b[i].genome == a[i].genome);
    CHECK(b[i].val_acc == a[i].val_acc);
  }
  std::system(("rm -rf " + base + "_a " + base + "_b").c_str());
}

TEST_CASE("supernet task: adaptation trains only at the resolutions it is given") {
  const auto train = tiny_data(32, 1), val = tiny_data(16, 2);
  nat::data::transform_config tf;
  nat::elastic::supernet net(tiny_layout(), 5);
  auto cfg = tiny_run();
  {
    nat::transfer::supernet_task t(net, train, val, tf, cfg);
    CHECK(t.adaptation_resolutions() == net.config().resolutions);
    t.set_resolution_range(net.config().resolutions.back(), 1000);
    CHECK(t.adaptation_resolutions() == std::vector<int>{net.config().resolutions.back()});
  }
  cfg.adaptation.resolutions = {net.config().resolutions.front(), 999};
  {
    nat::transfer::supernet_task t(net, train, val, tf, cfg);
    CHECK(t.adaptation_resolutions() == std::vector<int>{net.config().resolutions.front()});
    // Nothing left to train at: refused with the list, not an empty loader.
    t.set_resolution_range(net.config().resolutions.back(), 1000);
    CHECK_THROWS_WITH_AS(t.adaptation_resolutions(), doctest::Contains("adaptation.resolutions"),
                         nat::config_error);
  }
}

TEST_CASE("supernet task: the adaptation sandwich also trains what the distribution never draws") {
  const auto train = tiny_data(64, 1), val = tiny_data(16, 2);
  nat::data::transform_config tf;
  // The archive distribution here only ever draws the smallest subnet: without the sandwich the
  // layers beyond its depth keep their weights; with it the largest trains them too.
  auto changed_by_adaptation = [&](bool sandwich) {
    nat::elastic::supernet net(tiny_layout(), 5);
    auto cfg = tiny_run();
    cfg.adaptation.kd_ratio = 0;
    cfg.adaptation.subnets_per_step = 3;
    cfg.adaptation.sandwich = sandwich;
    std::map<std::string, std::vector<float>> before;
    for (const auto& [name, t] : net.state_dict()) {
      const auto c = t.contiguous();
      before[name].assign(c.data(), c.data() + c.numel());
    }
    nat::transfer::supernet_task task(net, train, val, tf, cfg);
    task.set_quiet(true);
    const auto smallest = net.config().smallest();
    task.adapt([&](nat::rng&) { return smallest; }, 1, 7);
    std::set<std::string> changed;
    for (const auto& [name, t] : net.state_dict()) {
      const auto c = t.contiguous();
      if (!std::equal(c.data(), c.data() + c.numel(), before[name].begin())) changed.insert(name);
    }
    return changed;
  };
  const auto plain = changed_by_adaptation(false), sandwich = changed_by_adaptation(true);
  CHECK(!plain.empty());
  CHECK(std::includes(sandwich.begin(), sandwich.end(), plain.begin(), plain.end()));
  CHECK(sandwich.size() > plain.size());
  // Too few subnets per step for largest + smallest + one drawn: refused by name.
  auto bad = tiny_run();
  bad.adaptation.sandwich = true;
  bad.adaptation.subnets_per_step = 2;
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("adaptation.sandwich"), nat::config_error);
}
