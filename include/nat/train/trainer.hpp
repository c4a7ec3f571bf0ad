#pragma once
/// \file Training of supernets and static networks on an image dataset (nat_spec.md §5.2–5.3,
/// ofa_spec.md §4): per-batch sampling of k subnets with gradient accumulation, distillation from a
/// frozen teacher, a random resolution per batch, SGD with a per-step cosine schedule, gradient
/// clipping, an atomic checkpoint after every epoch (and, optionally, every few minutes within one)
/// with exact resume, a progress bar, and a clear
/// stop on a non-finite loss (before any broken checkpoint can be written).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/autograd/grad_mode.hpp"
#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/progress.hpp"
#include "nat/core/rng.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/core/timer.hpp"
#include "nat/data/batch_loader.hpp"
#include "nat/data/cutmix.hpp"
#include "nat/data/image_dataset.hpp"
#include "nat/data/transform.hpp"
#include "nat/elastic/bn_recalibration.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/nn/optim/lr_schedule.hpp"
#include "nat/nn/optim/optimizer.hpp"
#include "nat/ops/arith.hpp"
#include "nat/ops/loss.hpp"
#include "nat/train/batch_tensor.hpp"

namespace nat::train {

/// How subnets are drawn for each training step.
enum class sampling {
  largest,   ///< always the largest subnet (phase 1 of the warm-up; plain training)
  uniform,   ///< k uniform random subnets (OFA progressive shrinking, NAT warm-up phase 3)
  sandwich,  ///< largest, smallest and k−2 random (BigNAS' sandwich rule)
  custom     ///< `trainer::set_sampler` decides (NAT's archive distribution)
};

/// Settings of one training run; validated by the trainer.
struct trainer_config {
  std::size_t epochs = 1;
  std::size_t batch_size = 128;
  double lr = 0.05;  ///< peak learning rate
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 3e-5;  ///< not applied to BN parameters and biases
  double warmup_epochs = 0;    ///< linear warm-up from warmup_lr
  double warmup_lr = 0.0;
  double final_lr = 0.0;   ///< cosine floor
  double grad_clip = 0.0;  ///< global norm bound on the accumulated gradient; 0 = off
  double label_smoothing = 0.1;
  double kd_ratio = 0.0;  ///< loss = (kd·CE_soft + CE)·2/(kd+1) when a teacher is set
  /// CutMix of every batch (off by default; NAT's pipeline: prob 0.5, beta 1, two mixes). The CE
  /// term then uses the mixed soft targets, and a teacher sees the mixed images.
  data::cutmix_config cutmix;
  sampling sample = sampling::largest;
  std::size_t subnets_per_step = 1;
  std::vector<std::size_t> resolutions;  ///< per-batch random size; empty = the dataset's own
  std::uint64_t seed = 0;
  std::string checkpoint;  ///< path of the per-epoch checkpoint ("" = none)
  bool resume = false;     ///< continue from `checkpoint` when it exists
  /// Also write the checkpoint within an epoch once this many seconds have passed since the last
  /// one (0 = only at the end of each epoch). An epoch of a large dataset, or of a supernet with
  /// four subnets a step on a small machine, takes tens of minutes to hours; a kill then loses at
  /// most this much. The resumed run is still exactly the straight one.
  double checkpoint_interval_s = 0;
  bool quiet = false;                   ///< no progress bar
  std::size_t max_steps_per_epoch = 0;  ///< 0 = the whole epoch (tests and quick runs use less)
  /// One LR schedule spanning several runs (NAT: 5 epochs per iteration on one cosine over all
  /// iterations): the schedule covers `schedule_total_epochs` (0 = `epochs`) and this run's first
  /// epoch sits at `schedule_offset_epochs` within it.
  std::size_t schedule_total_epochs = 0;
  std::size_t schedule_offset_epochs = 0;

  /// Throws config_error naming the first bad setting.
  void validate() const {
    auto fail = [](const std::string& m) { throw config_error("trainer_config: " + m); };
    if (epochs == 0) fail("epochs must be positive");
    if (batch_size == 0) fail("batch_size must be positive");
    if (!(lr > 0) || !std::isfinite(lr)) fail("lr must be positive");
    if (!(momentum >= 0 && momentum < 1)) fail("momentum must lie in [0, 1)");
    if (!(weight_decay >= 0)) fail("weight_decay must be >= 0");
    const std::size_t total = schedule_total_epochs ? schedule_total_epochs : epochs;
    if (!(warmup_epochs >= 0) || warmup_epochs > static_cast<double>(total))
      fail("warmup_epochs must lie in [0, epochs of the schedule]");
    if (!(grad_clip >= 0)) fail("grad_clip must be >= 0");
    if (!(label_smoothing >= 0 && label_smoothing < 1)) fail("label_smoothing must lie in [0, 1)");
    if (!(kd_ratio >= 0)) fail("kd_ratio must be >= 0");
    cutmix.validate();
    if (subnets_per_step == 0) fail("subnets_per_step must be positive");
    if (sample == sampling::sandwich && subnets_per_step < 2)
      fail("sandwich sampling needs subnets_per_step >= 2");
    if (resume && checkpoint.empty()) fail("resume needs a checkpoint path");
    if (!(checkpoint_interval_s >= 0) || !std::isfinite(checkpoint_interval_s))
      fail("checkpoint_interval_s must be >= 0");
    if (schedule_total_epochs && schedule_offset_epochs + epochs > schedule_total_epochs)
      fail("schedule_offset_epochs + epochs exceed schedule_total_epochs");
  }
};

/// Statistics of one finished epoch.
struct epoch_stats {
  std::size_t epoch = 0;
  double loss = 0;               ///< mean training loss over the epoch's steps and subnets
  double accuracy = 0;           ///< training top-1 (%) of the sampled subnets
  double images_per_second = 0;  ///< images through forward+backward per second (all subnets)
  double seconds = 0;
};

/// Trains a supernet (or, with sampling::largest, the largest subnet as a plain network).
template <class T>
class trainer {
 public:
  using sampler_fn = std::function<subnet_config(rng&, std::size_t j)>;

  trainer(elastic::basic_supernet<T>& net, const data::image_dataset& train_set,
          data::image_transform transform, trainer_config cfg)
      : net_(net), data_(train_set), transform_(std::move(transform)), cfg_(std::move(cfg)) {
    cfg_.validate();
    data::loader_config lc;
    lc.batch_size = cfg_.batch_size;
    lc.shuffle = true;
    lc.drop_last = true;  // equal batches: BN statistics and the step count do not depend on a tail
    lc.seed = cfg_.seed;
    for (auto r : cfg_.resolutions) lc.resolutions.push_back(r);
    loader_ = std::make_unique<data::batch_loader>(data_, transform_, lc);
    std::vector<nn::optim::named_parameter<T>> params;
    for (auto& [name, t] : net_.named_parameters()) params.push_back({name, t});
    nn::optim::sgd_params sp;
    sp.lr = cfg_.lr;
    sp.momentum = cfg_.momentum;
    sp.nesterov = cfg_.nesterov && cfg_.momentum > 0;
    sp.weight_decay = cfg_.weight_decay;
    opt_ = std::make_unique<nn::optim::sgd<T>>(std::move(params), sp);
    const std::size_t per_epoch = steps_per_epoch();
    const auto warm = static_cast<std::size_t>(std::llround(cfg_.warmup_epochs * per_epoch));
    const std::size_t total = cfg_.schedule_total_epochs ? cfg_.schedule_total_epochs : cfg_.epochs;
    schedule_ =
        nn::optim::cosine_schedule(cfg_.lr, total * per_epoch, std::min(warm, total * per_epoch),
                                   cfg_.warmup_lr, cfg_.final_lr);
  }

  /// Forward pass of a frozen teacher: [n, c, h, w] images to [n, classes] logits.
  using teacher_fn = std::function<tensor<T>(const tensor<T>&)>;

  /// A frozen network whose softmax outputs are the distillation targets (kd_ratio > 0).
  /// `resolution` > 0 feeds it every batch resized to resolution×resolution instead of at the
  /// batch's own size: a teacher trained at one resolution gives poor soft labels at the others,
  /// and distilling those into the supernet cost its largest subnet ~7 points at 40 px.
  void set_teacher(nn::basic_mobilenet_v3<T>* teacher, std::size_t resolution = 0) {
    if (!teacher) {
      set_teacher(teacher_fn{}, resolution);
      return;
    }
    set_teacher([teacher](const tensor<T>& x) { return teacher->forward(x); }, resolution);
  }
  /// The same with any forward function (an ensemble, a network of another type, a probe).
  void set_teacher(teacher_fn teacher, std::size_t resolution = 0) {
    teacher_ = std::move(teacher);
    teacher_resolution_ = resolution;
  }
  /// Chooses subnet j of each step when sampling::custom is configured.
  void set_sampler(sampler_fn f) { sampler_ = std::move(f); }
  /// Called after every step with (epoch, step in epoch); may throw to stop (tests simulate kills).
  void set_step_callback(std::function<void(std::size_t, std::size_t)> f) {
    on_step_ = std::move(f);
  }
  /// Called after every epoch (after its checkpoint is written).
  void set_epoch_callback(std::function<void(const epoch_stats&)> f) { on_epoch_ = std::move(f); }

  /// Steps per epoch (full batches, capped by max_steps_per_epoch).
  std::size_t steps_per_epoch() const {
    const std::size_t n = loader_->batches_per_epoch();
    return cfg_.max_steps_per_epoch ? std::min(n, cfg_.max_steps_per_epoch) : n;
  }

  /// Runs the remaining epochs (all of them, or those after the checkpoint when resuming).
  std::vector<epoch_stats> run() {
    if (cfg_.sample == sampling::custom && !sampler_)
      throw config_error("trainer::run: sampling::custom needs set_sampler");
    if (cfg_.kd_ratio > 0 && !teacher_)
      throw config_error("trainer::run: kd_ratio > 0 needs set_teacher");
    std::size_t first_epoch = 0;
    partial_epoch resumed;
    if (cfg_.resume && nat::file_exists(cfg_.checkpoint)) first_epoch = load_checkpoint(resumed);
    std::vector<epoch_stats> out;
    for (std::size_t e = first_epoch; e < cfg_.epochs; ++e) {
      out.push_back(run_epoch(e, e == first_epoch ? resumed : partial_epoch{}));
      if (!cfg_.checkpoint.empty()) save_checkpoint(e + 1, partial_epoch{});
      if (on_epoch_) on_epoch_(out.back());
    }
    return out;
  }

 private:
  /// The steps of an epoch done so far and their running statistics: what a mid-epoch checkpoint
  /// holds besides the weights, so that a resumed epoch reports what a straight one would.
  struct partial_epoch {
    std::size_t steps = 0;
    double loss_sum = 0, n_correct = 0, n_seen = 0, seconds = 0;
    std::size_t n_loss = 0;
  };

  subnet_config pick(rng& g, std::size_t j) {
    const auto& L = net_.config();
    switch (cfg_.sample) {
      case sampling::largest:
        return L.largest();
      case sampling::uniform:
        return net_.sample_active(g);
      case sampling::sandwich:
        if (j == 0) return L.largest();
        if (j == 1) return L.smallest();
        return net_.sample_active(g);
      case sampling::custom:
      default:
        return sampler_(g, j);
    }
  }

  epoch_stats run_epoch(std::size_t epoch, const partial_epoch& before) {
    net_.train(true);
    const std::size_t steps = steps_per_epoch();
    progress_bar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg_.epochs),
                     steps, cfg_.quiet);
    bar.start_at(before.steps, before.seconds);
    loader_->start_epoch(epoch, before.steps);
    timer clock, since_checkpoint;
    double loss_sum = before.loss_sum, n_correct = before.n_correct, n_seen = before.n_seen;
    std::size_t n_loss = before.n_loss;
    const bool mid_epoch_checkpoints = !cfg_.checkpoint.empty() && cfg_.checkpoint_interval_s > 0;
    for (std::size_t s = before.steps; s < steps; ++s) {
      if (!loader_->next(batch_)) break;
      const std::size_t step = (cfg_.schedule_offset_epochs + epoch) * steps + s;
      tensor<T> mixed;
      if (cfg_.cutmix.enabled()) {
        // A function of (seed, global step), like the subnets below, so a resumed run mixes the
        // same way.
        rng gm((cfg_.seed ^ 0xC2B2AE3D27D4EB4FULL) * 0x9E3779B97F4A7C15ULL + step);
        const auto k = static_cast<std::size_t>(net_.config().n_classes);
        data::cutmix(batch_, k, cfg_.label_smoothing, cfg_.cutmix, gm, cutmix_targets_,
                     cutmix_source_);
        mixed = tensor<T>::empty({batch_.n, k});
        std::copy(cutmix_targets_.begin(), cutmix_targets_.end(), mixed.data());
      }
      const auto x = batch_to_tensor<T>(batch_);
      opt_->set_lr(schedule_.at(step));
      tensor<T> soft;
      if (teacher_ && cfg_.kd_ratio > 0) {
        autograd::no_grad guard;
        soft = softmax_rows(
            teacher_resolution_ &&
                    (teacher_resolution_ != batch_.h || teacher_resolution_ != batch_.w)
                ? teacher_(batch_to_tensor<T>(batch_, teacher_resolution_, teacher_scratch_))
                : teacher_(x));
      }
      // Subnets of a step are a function of (seed, global step) only, so a resumed run draws the
      // same ones.
      rng g(cfg_.seed * 0x9E3779B97F4A7C15ULL + step);
      for (std::size_t j = 0; j < cfg_.subnets_per_step; ++j) {
        const auto sub = pick(g, j);
        net_.set_active(sub);
        const auto logits = net_.forward(x);
        auto loss = mixed.defined() ? ops::soft_cross_entropy(logits, mixed)
                                    : ops::cross_entropy(logits, batch_.labels,
                                                         static_cast<T>(cfg_.label_smoothing));
        if (soft.defined()) {
          const T kd = static_cast<T>(cfg_.kd_ratio);
          loss = ops::scale(ops::add(ops::scale(ops::soft_cross_entropy(logits, soft), kd), loss),
                            static_cast<T>(2) / (kd + static_cast<T>(1)));
        }
        const double lv = static_cast<double>(loss.item());
        if (!std::isfinite(lv))
          throw error("trainer: the loss became " + std::to_string(lv) + " at epoch " +
                      std::to_string(epoch + 1) + ", step " + std::to_string(s + 1) + " (subnet " +
                      to_json(sub).dump() +
                      "); stopped before writing a checkpoint — lower the learning rate or check "
                      "the data");
        autograd::backward(loss);
        loss_sum += lv;
        ++n_loss;
        n_correct += count_correct(logits, batch_.labels);
        n_seen += static_cast<double>(batch_.n);
      }
      if (cfg_.grad_clip > 0) {
        const double norm = nn::optim::clip_grad_norm(opt_->parameters(), cfg_.grad_clip);
        if (!std::isfinite(norm))
          throw error("trainer: the gradient norm became non-finite at epoch " +
                      std::to_string(epoch + 1) + ", step " + std::to_string(s + 1) +
                      "; stopped before writing a checkpoint");
      }
      opt_->step();
      opt_->zero_grad();
      char status[128];
      std::snprintf(status, sizeof status, "loss %.4f acc %.2f%% %.0f img/s", loss_sum / n_loss,
                    100.0 * n_correct / n_seen, (n_seen - before.n_seen) / clock.seconds());
      bar.update(s + 1, status);
      // Not after the last step: the end-of-epoch checkpoint follows at once.
      if (mid_epoch_checkpoints && s + 1 < steps &&
          since_checkpoint.seconds() >= cfg_.checkpoint_interval_s) {
        save_checkpoint(epoch, partial_epoch{s + 1, loss_sum, n_correct, n_seen,
                                             before.seconds + clock.seconds(), n_loss});
        since_checkpoint.reset();
      }
      if (on_step_) on_step_(epoch, s);
    }
    epoch_stats st;
    st.epoch = epoch + 1;
    st.loss = n_loss ? loss_sum / static_cast<double>(n_loss) : 0.0;
    st.accuracy = n_seen > 0 ? 100.0 * n_correct / n_seen : 0.0;
    st.seconds = before.seconds + clock.seconds();
    st.images_per_second = st.seconds > 0 ? n_seen / st.seconds : 0.0;
    bar.finish();
    return st;
  }

  static tensor<T> softmax_rows(const tensor<T>& logits) {
    const auto l = logits.contiguous();
    const std::size_t n = l.shape()[0], k = l.shape()[1];
    auto p = tensor<T>::empty({n, k});
    for (std::size_t r = 0; r < n; ++r) {
      const T* a = l.data() + r * k;
      T* b = p.data() + r * k;
      T mx = a[0];
      for (std::size_t j = 1; j < k; ++j) mx = std::max(mx, a[j]);
      double s = 0;
      for (std::size_t j = 0; j < k; ++j) s += (b[j] = std::exp(a[j] - mx));
      for (std::size_t j = 0; j < k; ++j) b[j] = static_cast<T>(b[j] / s);
    }
    return p;
  }

  static std::string exact(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);  // round-trips through strtod
    return buf;
  }

  void save_checkpoint(std::size_t epochs_done, const partial_epoch& p) {
    auto tensors = net_.state_dict();
    for (auto& kv : opt_->state()) tensors.emplace_back("optimizer." + kv.first, kv.second);
    // The classifier dropout's mask seed advances with every training forward; without it a
    // resumed run would draw different masks than a straight one.
    std::map<std::string, std::string> meta = {{"epochs_done", std::to_string(epochs_done)},
                                               {"seed", std::to_string(cfg_.seed)},
                                               {"dropout_seed", std::to_string(net_.dropout_seed)},
                                               {"format", "nat-trainer-checkpoint-1"}};
    if (p.steps > 0) {
      meta["steps_done"] = std::to_string(p.steps);
      meta["partial_loss_sum"] = exact(p.loss_sum);
      meta["partial_losses"] = std::to_string(p.n_loss);
      meta["partial_correct"] = exact(p.n_correct);
      meta["partial_seen"] = exact(p.n_seen);
      meta["partial_seconds"] = exact(p.seconds);
    }
    io::save_safetensors(cfg_.checkpoint, tensors, meta);
  }

  std::size_t load_checkpoint(partial_epoch& p) {
    std::map<std::string, std::string> meta;
    auto file = io::load_safetensors<T>(cfg_.checkpoint, &meta);
    if (meta["format"] != "nat-trainer-checkpoint-1")
      throw io_error("trainer: " + cfg_.checkpoint + " is not a nat trainer checkpoint");
    if (meta["seed"] != std::to_string(cfg_.seed))
      throw config_error("trainer: " + cfg_.checkpoint + " was written with seed " + meta["seed"] +
                         ", this run uses " + std::to_string(cfg_.seed));
    const std::size_t done = std::stoul(meta.at("epochs_done"));
    p = partial_epoch{};
    if (meta.count("steps_done")) {
      // Written mid-epoch: `done` epochs plus these steps of the next one.
      try {
        p.steps = std::stoul(meta.at("steps_done"));
        p.loss_sum = std::stod(meta.at("partial_loss_sum"));
        p.n_loss = std::stoul(meta.at("partial_losses"));
        p.n_correct = std::stod(meta.at("partial_correct"));
        p.n_seen = std::stod(meta.at("partial_seen"));
        p.seconds = std::stod(meta.at("partial_seconds"));
      } catch (const std::exception&) {
        throw io_error("trainer: " + cfg_.checkpoint +
                       " has a damaged mid-epoch record (steps_done and its statistics)");
      }
      if (p.steps >= steps_per_epoch())
        throw config_error("trainer: " + cfg_.checkpoint + " stopped after step " +
                           std::to_string(p.steps) + " of an epoch, but this run's epochs have " +
                           std::to_string(steps_per_epoch()) +
                           " steps (another batch size or max_steps_per_epoch?)");
    }
    if (meta.count("dropout_seed")) net_.dropout_seed = std::stoull(meta.at("dropout_seed"));
    // Weights first (all-or-nothing, listing what does not match), then the optimiser state.
    io::load_safetensors_into(cfg_.checkpoint, net_.state_dict(), /*strict=*/false);
    std::vector<std::pair<std::string, tensor<T>>> state;
    for (auto& [name, t] : file)
      if (name.rfind("optimizer.", 0) == 0) state.emplace_back(name.substr(10), t);
    opt_->load_state(state);
    return done;
  }

  static double count_correct(const tensor<T>& logits, const std::vector<int>& labels) {
    const auto l = logits.contiguous();
    const std::size_t n = l.shape()[0], k = l.shape()[1];
    double c = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const T* a = l.data() + r * k;
      const auto best = static_cast<std::size_t>(std::max_element(a, a + k) - a);
      c += best == static_cast<std::size_t>(labels[r]);
    }
    return c;
  }

  elastic::basic_supernet<T>& net_;
  const data::image_dataset& data_;
  data::image_transform transform_;
  trainer_config cfg_;
  std::unique_ptr<data::batch_loader> loader_;
  std::unique_ptr<nn::optim::sgd<T>> opt_;
  nn::optim::lr_schedule schedule_;
  teacher_fn teacher_;
  std::size_t teacher_resolution_ = 0;  ///< 0 = each batch's own
  std::vector<float> teacher_scratch_;
  sampler_fn sampler_;
  std::function<void(std::size_t, std::size_t)> on_step_;
  std::function<void(const epoch_stats&)> on_epoch_;
  data::batch batch_;
  std::vector<float> cutmix_targets_, cutmix_source_;  // reused: no allocation per step
};

}  // namespace nat::train
