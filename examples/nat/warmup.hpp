#pragma once
// Supernet warm-up for a new task (nat_spec.md §5.3), shared by `nat train-supernet` and `nat
// search` (which warms one up first when no trained supernet is given): train the largest subnet,
// sort the middle channels by importance, then train the whole supernet with sampled subnets and
// distillation from the phase-1 network. Every phase checkpoints each epoch; `resume` continues
// where a killed run stopped.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "calibration.hpp"
#include "nat/core/file.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/train/evaluate.hpp"
#include "nat/train/trainer.hpp"
#include "task_data.hpp"

namespace nat_cli {

/// The recipe of a warm-up.
struct warmup_options {
  std::size_t epochs_largest = 10;
  std::size_t epochs_supernet = 20;
  std::size_t batch = 128;
  double lr_largest = 0.1;
  double lr_supernet = 0.05;
  std::size_t subnets = 4;
  nat::train::sampling sampling = nat::train::sampling::sandwich;
  double kd = 1.0;
  double cutmix = 0.0;         ///< CutMix probability per mix in both phases (0 = off)
  double erasing = 0.0;        ///< random-erasing probability in both phases (0 = off)
  double weight_decay = 3e-5;  ///< L2 decay in both phases (none on BN and biases)
  std::vector<std::size_t> resolutions = {28, 32, 36, 40};
  std::size_t max_steps = 0;  ///< cap per epoch (0 = whole epochs)
  std::uint64_t seed = 0;
  /// A finished `nat train --subnet largest` checkpoint that replaces phase 1 (empty = train it).
  std::string largest_from;
  /// Feed the phase-3 teacher every batch at this resolution (0 = at the batch's own): the
  /// resolution `largest_from` trained at, the only one its network knows.
  std::size_t teacher_resolution = 0;
  /// Supernet weights phase 3 starts from instead of the sorted phase-1 network (empty = that
  /// one): a finished warm-up continued under a better teacher, without repeating its epochs.
  std::string init;
  /// Checkpoint within an epoch every this many seconds (0 = at epoch ends only).
  double checkpoint_interval_s = 300;
  bool resume = false;
  bool quiet = false;
};

/// "28,32,36,40": the resolutions a warm-up trained at, as its supernet file records them.
inline std::string join_sizes(const std::vector<std::size_t>& xs) {
  std::string s;
  for (std::size_t i = 0; i < xs.size(); ++i) s += (i ? "," : "") + std::to_string(xs[i]);
  return s;
}

/// Warms `net` up on `data` and writes its weights to `out` (checkpoints beside it).
inline void warm_up(nat::elastic::supernet& net, const task_data& data,
                    const nat::data::transform_config& tf, const warmup_options& o,
                    const std::string& out, const std::string& preset_name) {
  const auto& layout = net.config();
  if (!nat::parent_dir(out).empty()) nat::make_dirs(nat::parent_dir(out));
  nat::train::trainer_config base;
  base.batch_size = o.batch;
  base.resolutions = o.resolutions;
  base.max_steps_per_epoch = o.max_steps;
  base.seed = o.seed;
  base.quiet = o.quiet;
  base.weight_decay = o.weight_decay;
  base.label_smoothing = 0.1;
  base.cutmix.prob = o.cutmix;
  base.nesterov = true;
  base.resume = true;  // each phase continues its own checkpoint; fresh runs remove them first
  base.checkpoint_interval_s = o.checkpoint_interval_s;
  const std::string teacher_path = out + ".teacher.safetensors";
  const std::string phase1 = out + ".phase1.ckpt", phase2 = out + ".phase2.safetensors",
                    phase3 = out + ".phase3.ckpt";
  if (!o.resume)
    for (const auto& p : {teacher_path, phase1, phase2, phase3}) std::remove(p.c_str());
  // Erasing only in what the trainers see: BN recalibration and evaluation keep tf.train, the
  // pipeline `nat search` and `nat evaluate` recalibrate with.
  auto train_tf = tf.train;
  train_tf.random_erasing = o.erasing;
  auto log_epochs = [&](const char* phase, const std::vector<nat::train::epoch_stats>& stats) {
    if (o.quiet) return;
    for (const auto& st : stats)
      std::fprintf(stderr, "%s epoch %zu: loss %.4f, train top-1 %.2f%%, %.0f img/s\n", phase,
                   st.epoch, st.loss, st.accuracy, st.images_per_second);
  };
  if (!nat::file_exists(teacher_path)) {
    if (o.largest_from.empty()) {
      auto c = base;
      c.epochs = o.epochs_largest;
      c.lr = o.lr_largest;
      c.warmup_epochs = o.epochs_largest > 1 ? 1 : 0;
      c.sample = nat::train::sampling::largest;
      c.checkpoint = phase1;
      nat::train::trainer<float> tr(net, data.train, train_tf, c);
      log_epochs("phase 1 (largest subnet)", tr.run());
    } else {
      // The trainer checkpoint holds the whole supernet (plus optimiser state, not needed here).
      nat::io::load_safetensors_into(o.largest_from, net.state_dict(), /*strict=*/false);
    }
    // Phase 2: importance sorting keeps the function of the largest subnet (ofa_spec.md §3).
    net.reorganize_middle_weights(0);
    nat::io::save_safetensors(phase2, net.state_dict());
    const std::size_t r_teacher =
        o.teacher_resolution ? o.teacher_resolution : o.resolutions.front();
    recalibrate_subnet(net, layout.largest(static_cast<int>(r_teacher)), data.train, tf);
    nat::io::save_safetensors(teacher_path, net.extract()->state_dict());
  } else if (!nat::file_exists(phase3)) {
    nat::io::load_safetensors_into(phase2, net.state_dict());
  }
  // The teacher: the phase-1 network, frozen (nat_spec.md §5.2).
  net.set_active(layout.largest());
  auto teacher = net.extract();
  nat::io::load_safetensors_into(teacher_path, teacher->state_dict());
  teacher->eval();
  if (!o.init.empty() && !nat::file_exists(phase3))
    nat::io::load_safetensors_into(o.init, net.state_dict());
  {
    auto c = base;
    c.epochs = o.epochs_supernet;
    c.lr = o.lr_supernet;
    c.sample = o.sampling;
    c.subnets_per_step = o.subnets;
    c.kd_ratio = o.kd;
    c.checkpoint = phase3;
    nat::train::trainer<float> tr(net, data.train, train_tf, c);
    if (c.kd_ratio > 0) tr.set_teacher(teacher.get(), o.teacher_resolution);
    log_epochs("phase 3 (supernet)", tr.run());
  }
  nat::io::save_safetensors(out, net.state_dict(),
                            {{"preset", preset_name},
                             {"dataset", data.name},
                             {"n_classes", std::to_string(layout.n_classes)},
                             {"in_channels", std::to_string(layout.in_channels)},
                             {"seed", std::to_string(o.seed)},
                             {"resolutions", join_sizes(o.resolutions)}});
}

/// Top-1 (%) of subnet `cfg` on `ds` after recalibrate_subnet.
inline double recalibrated_accuracy(nat::elastic::supernet& net, const nat::subnet_config& cfg,
                                    const task_data& data, const nat::data::transform_config& tf,
                                    const nat::data::image_dataset& ds) {
  recalibrate_subnet(net, cfg, data.train, tf);
  return nat::train::evaluate(net, ds, tf.eval, static_cast<std::size_t>(cfg.r)).top1;
}

}  // namespace nat_cli
