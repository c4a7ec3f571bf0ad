#include <doctest/doctest.h>

#include <cstdio>
#include <nat/train/evaluate.hpp>
#include <nat/train/trainer.hpp>

#include "../common/tiny_task.hpp"

namespace {

using nat_test::tiny_data;
using nat_test::tiny_layout;

nat::train::trainer_config base_config() {
  nat::train::trainer_config c;
  c.epochs = 3;
  c.batch_size = 16;
  c.lr = 0.05;
  c.weight_decay = 1e-4;
  c.label_smoothing = 0.0;
  c.sample = nat::train::sampling::sandwich;
  c.subnets_per_step = 3;
  c.resolutions = {12, 16};
  c.grad_clip = 5.0;
  c.quiet = true;
  c.seed = 3;
  return c;
}

std::vector<std::vector<float>> weights(const nat::elastic::supernet& net) {
  std::vector<std::vector<float>> w;
  for (const auto& kv : net.state_dict()) w.push_back(kv.second.to_vector());
  return w;
}

}  // namespace

TEST_CASE("trainer: a tiny supernet learns a separable task; largest and smallest both improve") {
  const auto data = tiny_data(192, 1);
  const auto test = tiny_data(96, 2);
  nat::elastic::supernet net(tiny_layout(), 7);
  const nat::data::image_transform plain;
  auto before = nat::train::evaluate(net, test, plain, 12).top1;
  nat::train::trainer<float> tr(net, data, plain, base_config());
  const auto stats = tr.run();
  REQUIRE(stats.size() == 3);
  CHECK(stats.back().loss < stats.front().loss);
  CHECK(stats.back().images_per_second > 0);
  for (const auto& sub : {net.config().largest(12), net.config().smallest(12)}) {
    net.set_active(sub);
    const auto batches = nat::train::calibration_batches<float>(data, plain, 12, 64, 32, 5);
    nat::elastic::recalibrate_bn(net, batches);
    const auto after = nat::train::evaluate(net, test, plain, 12);
    CHECK(after.top1 > 90.0);
    CHECK(after.top1 > before);
  }
}

TEST_CASE(
    "trainer: killed mid-epoch and resumed, it ends with the same weights as a straight run") {
  const auto data = tiny_data(96, 4);
  const std::string dir = "/tmp/nat_trainer_test_" + std::to_string(::getpid());
  const nat::data::image_transform plain;
  auto cfg = base_config();
  cfg.checkpoint = dir + "_a.safetensors";
  auto layout = tiny_layout();
  layout.dropout = 0.3;  // the dropout masks' seed must survive the checkpoint too
  nat::elastic::supernet a(layout, 11);
  nat::train::trainer<float>(a, data, plain, cfg).run();

  cfg.checkpoint = dir + "_b.safetensors";
  cfg.resume = true;
  nat::elastic::supernet b(layout, 11);
  {
    nat::train::trainer<float> tr(b, data, plain, cfg);
    tr.set_step_callback([](std::size_t epoch, std::size_t step) {
      if (epoch == 1 && step == 2) throw std::runtime_error("killed");
    });
    CHECK_THROWS_WITH(tr.run(), "killed");
  }
  nat::elastic::supernet c(layout, 99);  // a fresh process: different initial weights
  nat::train::trainer<float>(c, data, plain, cfg).run();
  CHECK(weights(c) == weights(a));
  std::remove((dir + "_a.safetensors").c_str());
  std::remove((dir + "_b.safetensors").c_str());
}

TEST_CASE("trainer: a diverging run stops with a clear error and writes no checkpoint") {
  const auto data = tiny_data(64, 6);
  auto cfg = base_config();
  cfg.lr = 1e30;
  cfg.grad_clip = 0;
  cfg.checkpoint = "/tmp/nat_trainer_nan_" + std::to_string(::getpid()) + ".safetensors";
  nat::elastic::supernet net(tiny_layout(), 1);
  nat::train::trainer<float> tr(net, data, nat::data::image_transform{}, cfg);
  CHECK_THROWS_WITH_AS(tr.run(), doctest::Contains("stopped before writing a checkpoint"),
                       nat::error);
  std::FILE* f = std::fopen(cfg.checkpoint.c_str(), "rb");
  CHECK(f == nullptr);
  if (f) std::fclose(f);
}

TEST_CASE("trainer_config: bad settings are named") {
  auto c = base_config();
  c.momentum = 1.0;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("momentum"), nat::config_error);
  c = base_config();
  c.subnets_per_step = 1;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("sandwich"), nat::config_error);
  c = base_config();
  c.resume = true;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("checkpoint"), nat::config_error);
}
