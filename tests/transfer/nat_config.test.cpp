#include <doctest/doctest.h>

#include <nat/transfer/nat_config.hpp>

TEST_CASE("nat_config: paper defaults are nat_spec's constants") {
  const auto c = nat::transfer::paper_preset();
  CHECK(c.n_doe == 100);
  CHECK(c.n_iterations == 30);
  CHECK(c.n_candidates == 8);
  CHECK(c.search.pop_size == 100);
  CHECK(c.search.n_gen == 20);
  CHECK(c.search.crossover_prob == 0.9);
  CHECK(c.search.mutation_eta == 1.0);
  CHECK(c.search.n_ref_dirs == 100);
  CHECK(c.search.ref_dirs_seed == 42);
  CHECK(c.search.subset_pop_size == 500);
  CHECK(c.search.subset_n_gen == 200);
  CHECK(c.adaptation.top_n == 150);
  CHECK(c.adaptation.epochs_per_iteration == 5);
  CHECK(c.adaptation.subnets_per_step == 4);
  CHECK(c.adaptation.lr == 2.5e-3);
  CHECK(c.adaptation.weight_decay == 3e-4);
  CHECK(c.adaptation.grad_clip == 5.0);
  CHECK(c.adaptation.batch_size == 96);
  CHECK(c.evaluation.bn_calibration_images == 960);
  CHECK_NOTHROW(c.validate());
  CHECK_NOTHROW(nat::transfer::quick_preset().validate());
}

TEST_CASE("nat_config: JSON round trip keeps every field") {
  auto c = nat::transfer::quick_preset();
  c.objectives = {"err", "macs", "params", "cpu_latency"};
  c.seed = 1234;
  c.adaptation.kd_ratio = 0.5;
  c.search.ref_dirs_seed = 7;
  c.adaptation.resolutions = {28, 36};
  c.adaptation.sandwich = true;
  c.max_resolution = 40;
  const auto text = nat::transfer::to_json(c).dump(2);
  const auto back = nat::transfer::nat_config_from_json(nat::json::parse(text));
  CHECK(nat::transfer::to_json(back) == nat::transfer::to_json(c));
}

TEST_CASE("nat_config: bad settings name the field") {
  using nat::transfer::nat_config_from_json;
  auto bad = [](const char* text) { return nat_config_from_json(nat::json::parse(text)); };
  CHECK_THROWS_WITH_AS(bad(R"({"objectives":["macs","err"]})"), doctest::Contains("objectives"),
                       nat::config_error);
  CHECK_THROWS_WITH_AS(bad(R"({"objectives":["err","flops"]})"), doctest::Contains("flops"),
                       nat::config_error);
  CHECK_THROWS_WITH_AS(bad(R"({"surrogate":"xgboost"})"), doctest::Contains("xgboost"),
                       nat::config_error);
  CHECK_THROWS_WITH_AS(bad(R"({"search":{"pop_size":7}})"), doctest::Contains("pop_size"),
                       nat::config_error);
  CHECK_THROWS_WITH_AS(bad(R"({"adaptation":{"lr":-1}})"), doctest::Contains("lr"),
                       nat::config_error);
  CHECK_THROWS_WITH_AS(bad(R"({"n_iteratons":3})"), doctest::Contains("n_iteratons"),
                       nat::config_error);
  CHECK_THROWS_AS(bad(R"({"n_doe":-5})"), nat::config_error);
  CHECK_THROWS_AS(bad(R"({"max_resolution":-40})"), nat::config_error);
  CHECK_THROWS_WITH_AS(bad(R"({"adaptation":{"resolutions":[28,0]}})"),
                       doctest::Contains("adaptation.resolutions"), nat::config_error);
  CHECK_THROWS_AS(nat::transfer::preset("huge"), nat::config_error);
}

TEST_CASE("nat_config: accuracy on further datasets is err:<name>, up to 12 objectives") {
  auto c = nat::transfer::quick_preset();
  c.objectives = {"err", "macs", "err:digits"};
  CHECK_NOTHROW(c.validate());
  CHECK(nat::transfer::is_error_objective("err:digits"));
  CHECK(!nat::transfer::is_error_objective("macs"));
  CHECK(nat::transfer::error_objective_task("err:idx:/data/x") == "idx:/data/x");
  CHECK(nat::transfer::error_objective_task("err").empty());
  c.objectives = {"err", "err:"};
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("names no dataset"), nat::config_error);
  c.objectives = {"err", "err:" + c.dataset};
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("primary dataset"), nat::config_error);
  c.objectives = {"err", "macs"};
  for (int i = 0; i < 10; ++i) c.objectives.push_back("err:d" + std::to_string(i));
  CHECK_NOTHROW(c.validate());  // 12: MAdds + top-1 on 11 datasets (nat_spec.md §4.3)
  c.objectives.push_back("params");
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("at most 12"), nat::config_error);
}
