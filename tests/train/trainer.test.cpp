#include <doctest/doctest.h>

#include <cstdio>
#include <nat/train/evaluate.hpp>
#include <nat/train/trainer.hpp>
#include <set>
#include <vector>

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

TEST_CASE("trainer: checkpoints within an epoch resume at the next step, with exact statistics") {
  const auto data = tiny_data(96, 4);  // 6 steps per epoch
  const std::string dir = "/tmp/nat_trainer_mid_" + std::to_string(::getpid());
  const nat::data::image_transform plain;
  auto cfg = base_config();
  cfg.checkpoint = dir + "_a.safetensors";
  nat::elastic::supernet a(tiny_layout(), 11);
  const auto straight = nat::train::trainer<float>(a, data, plain, cfg).run();

  cfg.checkpoint = dir + "_b.safetensors";
  cfg.checkpoint_interval_s = 1e-9;  // after every step
  cfg.resume = true;
  nat::elastic::supernet b(tiny_layout(), 11);
  {
    nat::train::trainer<float> tr(b, data, plain, cfg);
    tr.set_step_callback([](std::size_t epoch, std::size_t step) {
      if (epoch == 1 && step == 3) throw std::runtime_error("killed");
    });
    CHECK_THROWS_WITH(tr.run(), "killed");
  }
  nat::elastic::supernet c(tiny_layout(), 99);
  std::vector<std::pair<std::size_t, std::size_t>> steps_run;
  std::vector<nat::train::epoch_stats> resumed;
  {
    nat::train::trainer<float> tr(c, data, plain, cfg);
    tr.set_step_callback([&](std::size_t e, std::size_t s) { steps_run.emplace_back(e, s); });
    resumed = tr.run();
  }
  // Steps 0-3 of epoch 2 were checkpointed before the kill: only the rest is run again.
  REQUIRE(!steps_run.empty());
  CHECK(steps_run.front() == std::make_pair(std::size_t{1}, std::size_t{4}));
  CHECK(steps_run.size() == 2 + 6);
  CHECK(weights(c) == weights(a));
  REQUIRE(resumed.size() == 2);
  CHECK(resumed[0].epoch == 2);
  CHECK(resumed[0].loss == straight[1].loss);
  CHECK(resumed[0].accuracy == straight[1].accuracy);
  CHECK(resumed[1].loss == straight[2].loss);

  // A checkpoint taken at step 5 of 6 does not fit epochs of 3 steps: named, not misread.
  nat::elastic::supernet d(tiny_layout(), 11);
  {
    nat::train::trainer<float> tr(d, data, plain, cfg);
    tr.set_step_callback([](std::size_t epoch, std::size_t step) {
      if (epoch == 0 && step == 4) throw std::runtime_error("killed");
    });
    std::remove(cfg.checkpoint.c_str());
    CHECK_THROWS_WITH(tr.run(), "killed");
  }
  cfg.max_steps_per_epoch = 3;
  nat::train::trainer<float> short_epochs(d, data, plain, cfg);
  CHECK_THROWS_WITH_AS(short_epochs.run(), doctest::Contains("stopped after step 5"),
                       nat::config_error);
  std::remove((dir + "_a.safetensors").c_str());
  std::remove((dir + "_b.safetensors").c_str());
}

TEST_CASE("trainer: with CutMix a tiny supernet still learns, and a killed run resumes exactly") {
  const auto data = tiny_data(192, 1);
  const auto test = tiny_data(96, 2);
  const nat::data::image_transform plain;
  const std::string dir = "/tmp/nat_trainer_cutmix_" + std::to_string(::getpid());
  auto cfg = base_config();
  cfg.cutmix.prob = 0.5;
  cfg.checkpoint = dir + "_a.safetensors";
  nat::elastic::supernet a(tiny_layout(), 7);
  nat::train::trainer<float>(a, data, plain, cfg).run();
  a.set_active(a.config().largest(12));
  nat::elastic::recalibrate_bn(a,
                               nat::train::calibration_batches<float>(data, plain, 12, 64, 32, 5));
  CHECK(nat::train::evaluate(a, test, plain, 12).top1 > 85.0);

  auto off = base_config();
  nat::elastic::supernet n(tiny_layout(), 7);
  nat::train::trainer<float>(n, data, plain, off).run();

  cfg.checkpoint = dir + "_b.safetensors";
  cfg.resume = true;
  nat::elastic::supernet b(tiny_layout(), 7);
  {
    nat::train::trainer<float> tr(b, data, plain, cfg);
    tr.set_step_callback([](std::size_t epoch, std::size_t step) {
      if (epoch == 1 && step == 4) throw std::runtime_error("killed");
    });
    CHECK_THROWS_WITH(tr.run(), "killed");
  }
  nat::elastic::supernet c(tiny_layout(), 99);
  nat::train::trainer<float>(c, data, plain, cfg).run();
  nat::elastic::supernet a2(tiny_layout(), 7);  // a's weights before BN recalibration
  cfg.checkpoint = dir + "_c.safetensors";
  cfg.resume = false;
  nat::train::trainer<float>(a2, data, plain, cfg).run();
  CHECK(weights(c) == weights(a2));
  CHECK(weights(n) != weights(a2));  // the mixing reaches the gradients
  for (const char* s : {"_a", "_b", "_c"}) std::remove((dir + s + ".safetensors").c_str());
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
  c.cutmix.prob = 2;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("cutmix"), nat::config_error);
  c = base_config();
  c.resume = true;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("checkpoint"), nat::config_error);
  c = base_config();
  c.checkpoint_interval_s = -1;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("checkpoint_interval_s"), nat::config_error);
}

TEST_CASE("batch_to_tensor: resizing a batch matches bilinear by hand and per image") {
  nat::data::batch b;
  b.reshape(2, 1, 2, 2);
  b.images = {1, 2, 3, 4, 8, 8, 8, 8};
  std::vector<float> scratch;
  const auto x = nat::train::batch_to_tensor<float>(b, 1, scratch);
  REQUIRE(x.shape() == nat::shape{2, 1, 1, 1});
  // align_corners=False: the single output pixel samples the centre, the mean of the four.
  CHECK(x.to_vector() == std::vector<float>{2.5f, 8.0f});
  CHECK(nat::train::batch_to_tensor<float>(b, 2, scratch).to_vector() == b.images);
  CHECK_THROWS_AS(nat::train::batch_to_tensor<float>(b, 0, scratch), nat::config_error);

  nat::data::batch big;
  big.reshape(3, 2, 9, 7);
  for (std::size_t i = 0; i < big.images.size(); ++i)
    big.images[i] = static_cast<float>((i * 37) % 101) / 10.0f;
  const auto y = nat::train::batch_to_tensor<float>(big, 5, scratch);
  REQUIRE(y.shape() == nat::shape{3, 2, 5, 5});
  const auto yv = y.to_vector();
  for (std::size_t i = 0; i < 3; ++i) {
    const std::vector<float> img(big.images.begin() + long(i * 126),
                                 big.images.begin() + long((i + 1) * 126));
    const auto want = nat::data::resize_bilinear(img, 2, 9, 7, 5, 5);
    CHECK(std::vector<float>(yv.begin() + long(i * 50), yv.begin() + long((i + 1) * 50)) == want);
  }
}

TEST_CASE("trainer: a teacher with its own resolution sees every batch at that size") {
  const auto data = tiny_data(160, 8);  // 10 batches: both resolutions come up
  auto cfg = base_config();
  cfg.epochs = 1;
  cfg.kd_ratio = 1.0;
  cfg.resolutions = {12, 16};
  nat::elastic::supernet net(tiny_layout(), 2), teacher_net(tiny_layout(), 3);
  teacher_net.set_active(teacher_net.config().largest(12));
  auto teacher = teacher_net.extract();
  teacher->eval();
  for (const std::size_t r : {std::size_t(0), std::size_t(12)}) {
    std::set<std::size_t> seen;
    nat::train::trainer<float> tr(net, data, nat::data::image_transform{}, cfg);
    tr.set_teacher(
        [&](const nat::tensor<float>& x) {
          seen.insert(x.shape()[2]);
          CHECK(x.shape()[2] == x.shape()[3]);
          return teacher->forward(x);
        },
        r);
    tr.run();
    if (r == 0)
      CHECK(seen == std::set<std::size_t>{12, 16});  // each batch at its own size
    else
      CHECK(seen == std::set<std::size_t>{12});
  }
}
