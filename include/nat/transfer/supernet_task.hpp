#pragma once
/// \file The NAT task backed by an elastic supernet and an image dataset: subnets are scored with
/// inherited weights after BN recalibration on the search validation split (nat_spec.md §5.4),
/// costs are counted exactly, and adaptation trains the supernet on subnets drawn from the archive
/// distribution with distillation from a frozen teacher (nat_spec.md §5.2).
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/json.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/data/image_dataset.hpp"
#include "nat/data/transform.hpp"
#include "nat/elastic/bn_recalibration.hpp"
#include "nat/elastic/count.hpp"
#include "nat/elastic/latency_table.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/train/evaluate.hpp"
#include "nat/train/trainer.hpp"
#include "nat/transfer/nat_loop.hpp"

namespace nat::transfer {

/// A task over one supernet and one dataset split into adaptation-train and search-validation
/// parts.
template <class T>
class basic_supernet_task : public task {
 public:
  /// `net` is adapted in place; `train_set` feeds adaptation and BN recalibration, `val_set` scores
  /// subnets. Both datasets and the net must outlive the task.
  basic_supernet_task(elastic::basic_supernet<T>& net, const data::image_dataset& train_set,
                      const data::image_dataset& val_set, data::transform_config transforms,
                      nat_config cfg)
      : net_(net),
        train_(train_set),
        val_(val_set),
        tf_(std::move(transforms)),
        cfg_(std::move(cfg)) {
    cfg_.validate();
  }

  /// Uses `table` for the cpu_latency objective.
  void set_latency_table(elastic::latency_table table) {
    lut_ = std::move(table);
    has_lut_ = true;
  }
  /// A frozen teacher for distillation during adaptation (nat_spec.md §5.2); without one, the
  /// supernet's largest subnet is extracted as the teacher on the first adaptation.
  void set_teacher(std::unique_ptr<nn::basic_mobilenet_v3<T>> teacher) {
    teacher_ = std::move(teacher);
  }
  /// Silences the trainer's progress bar.
  void set_quiet(bool q) { quiet_ = q; }

  double evaluate(const subnet_config& c) override {
    net_.set_active(c);
    elastic::recalibrate_bn(net_, calibration(static_cast<std::size_t>(c.r)));
    return train::evaluate(net_, val_, tf_.eval, static_cast<std::size_t>(c.r),
                           cfg_.evaluation.eval_batch)
        .top1;
  }

  double cost(const std::string& objective, const subnet_config& c) override {
    const auto& p = net_.config();
    if (objective == "macs") return static_cast<double>(elastic::count_macs(p, c));
    if (objective == "params") return static_cast<double>(elastic::count_params(p, c));
    if (objective == "cpu_latency") {
      if (!has_lut_)
        throw config_error(
            "supernet_task: the cpu_latency objective needs a latency table (build one with "
            "nat::elastic::build_latency_table and pass it to set_latency_table)");
      return lut_.predict(p, c);
    }
    throw config_error("supernet_task: unknown objective \"" + objective + "\"");
  }

  void adapt(const std::function<subnet_config(rng&)>& sample, std::size_t iteration,
             std::uint64_t seed) override {
    const auto& a = cfg_.adaptation;
    if (!teacher_ && a.kd_ratio > 0) make_teacher();
    train::trainer_config tc;
    tc.epochs = a.epochs_per_iteration;
    tc.batch_size = a.batch_size;
    tc.lr = a.lr;
    tc.momentum = a.momentum;
    tc.nesterov = false;
    tc.weight_decay = a.weight_decay;
    tc.warmup_epochs = a.warmup_epochs;
    tc.warmup_lr = a.warmup_lr;
    tc.grad_clip = a.grad_clip;
    tc.label_smoothing = a.label_smoothing;
    tc.kd_ratio = a.kd_ratio;
    tc.sample = train::sampling::custom;
    tc.subnets_per_step = a.subnets_per_step;
    // The loader draws a resolution per batch from the space (nat_spec.md §5.2: r is dropped).
    for (int r : adaptation_resolutions()) tc.resolutions.push_back(static_cast<std::size_t>(r));
    tc.seed = seed;
    tc.quiet = quiet_;
    tc.max_steps_per_epoch = a.max_steps_per_epoch;
    // One cosine schedule over all iterations (nat_spec.md §5.2).
    tc.schedule_total_epochs = cfg_.n_iterations * a.epochs_per_iteration;
    tc.schedule_offset_epochs = (iteration - 1) * a.epochs_per_iteration;
    train::trainer<T> tr(net_, train_, tf_.train, tc);
    const auto& layout = net_.config();
    tr.set_sampler([&](rng& g, std::size_t j) {
      if (a.sandwich && j == 0) return layout.largest();
      if (a.sandwich && j == 1) return layout.smallest();
      return sample(g);
    });
    if (a.kd_ratio > 0) tr.set_teacher(teacher_.get(), teacher_res_);
    tr.run();
    calib_.clear();  // new weights: batches stay valid, but keep memory bounded across iterations
  }

  /// Saves the supernet and the teacher (a resumed run must distil from the same teacher).
  void save_state(const std::string& dir) override {
    make_dirs(dir);
    io::save_safetensors(dir + "/supernet.safetensors", net_.state_dict());
    if (teacher_) io::save_safetensors(dir + "/teacher.safetensors", teacher_->state_dict());
  }

  bool load_state(const std::string& dir) override {
    const std::string path = dir + "/supernet.safetensors";
    if (!file_exists(path)) return false;
    if (file_exists(dir + "/teacher.safetensors")) {
      make_teacher();  // the structure of the largest subnet; its weights come from the file
      io::load_safetensors_into(dir + "/teacher.safetensors", teacher_->state_dict());
    }
    io::load_safetensors_into(path, net_.state_dict());
    return true;
  }

  /// Restricts adaptation's per-batch resolutions to [lo, hi] (the search space's range).
  void set_resolution_range(int lo, int hi) { min_res_ = lo, max_res_ = hi; }

  /// The resolutions adaptation trains at: the layout's within the range, and within the
  /// config's `adaptation.resolutions` when that is set. config_error when none is left.
  std::vector<int> adaptation_resolutions() const {
    const auto& only = cfg_.adaptation.resolutions;
    std::vector<int> out;
    for (int r : net_.config().resolutions)
      if (r >= min_res_ && r <= max_res_ &&
          (only.empty() || std::find(only.begin(), only.end(), r) != only.end()))
        out.push_back(r);
    if (out.empty())
      throw config_error("supernet_task: no resolution to adapt at: adaptation.resolutions " +
                         json::value(only).dump() +
                         " shares none with the supernet's resolutions within [" +
                         std::to_string(min_res_) + ", " + std::to_string(max_res_) + "]");
    return out;
  }

 private:
  void make_teacher() {
    const auto active = net_.active();
    // The teacher is calibrated at, and fed every batch at, adaptation's lowest resolution: the
    // layout's largest (64 px for mbv3_small) may lie outside what the supernet was trained on,
    // and a teacher calibrated there gave soft labels poor enough that adapting a well-trained
    // supernet lowered its archive's hypervolume (docs/RESULTS.md).
    const int rt = adaptation_resolutions().front();
    teacher_res_ = static_cast<std::size_t>(rt);
    const auto largest = net_.config().largest(rt);
    net_.set_active(largest);
    // Its BN statistics must not depend on which subnets were evaluated before (a resumed run has
    // not seen them), so they are recalibrated for the largest subnet first.
    elastic::recalibrate_bn(net_, calibration(static_cast<std::size_t>(largest.r)));
    teacher_ = net_.extract();
    teacher_->eval();
    net_.set_active(active);
  }

  const std::vector<tensor<T>>& calibration(std::size_t r) {
    auto it = calib_.find(r);
    if (it != calib_.end()) return it->second;
    // A fixed-seed subset of training images with the training transform (ofa_spec.md §5).
    auto b =
        train::calibration_batches<T>(train_, tf_.train, r, cfg_.evaluation.bn_calibration_images,
                                      cfg_.evaluation.bn_calibration_batch, 937162211ULL);
    return calib_.emplace(r, std::move(b)).first->second;
  }

  elastic::basic_supernet<T>& net_;
  const data::image_dataset& train_;
  const data::image_dataset& val_;
  data::transform_config tf_;
  nat_config cfg_;
  elastic::latency_table lut_;
  bool has_lut_ = false;
  bool quiet_ = false;
  int min_res_ = 0, max_res_ = 1 << 30;
  std::size_t teacher_res_ = 0;
  std::unique_ptr<nn::basic_mobilenet_v3<T>> teacher_;
  std::map<std::size_t, std::vector<tensor<T>>> calib_;
};

/// The everyday float task.
using supernet_task = basic_supernet_task<float>;

}  // namespace nat::transfer
