#pragma once
/// \file Batch loader: shuffled (seed, epoch) batches of transformed images at a per-batch
/// resolution, prepared on a background thread while the caller uses the current one.
///
/// Determinism: batch b of epoch e is a pure function of (dataset, transform, config, e, b). The
/// order of epoch e is a permutation seeded by (seed, e); image i gets its own generator seeded by
/// image_seed(seed, e, i); the resolution of batch b comes from the resolution callback or a
/// generator seeded by (seed, e, b). So threads, prefetch timing and where iteration started
/// (start_epoch(e, b) for exact resume) never change the content.
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/rng.hpp"
#include "nat/data/batch.hpp"
#include "nat/data/image_dataset.hpp"
#include "nat/data/transform.hpp"

namespace nat::data {

/// How a batch_loader walks its dataset.
struct loader_config {
  std::size_t batch_size = 128;  ///< Images per batch (the last one may be smaller).
  bool shuffle = true;           ///< Shuffle the order each epoch, seeded by (seed, epoch).
  bool drop_last = false;        ///< Drop the final incomplete batch.
  std::uint64_t seed = 0;        ///< Seeds the order, the augmentations and the resolutions.
  /// Output resolution R (images are R×R) when `resolutions` is empty and no callback is set;
  /// 0 = the dataset's own height.
  std::size_t resolution = 0;
  /// When non-empty, each batch draws its resolution uniformly from these values with a generator
  /// seeded by (seed, epoch, batch index) — NAT's per-batch size from {192, 196, …, 256}.
  std::vector<std::size_t> resolutions;
  bool prefetch = true;   ///< Prepare the next batch on a background thread.
  std::size_t grain = 4;  ///< Images per parallel task when filling a batch.
};

/// Chooses the resolution of batch `batch_index` of `epoch`. Called from the loader's background
/// thread, so it must be a pure function of its arguments (or otherwise thread-safe).
using resolution_fn = std::function<std::size_t(std::size_t epoch, std::size_t batch_index)>;

/// Resolutions lo, lo + step, …, up to hi (e.g. 192..256 step 4 gives NAT's 17 sizes).
inline std::vector<std::size_t> resolution_range(std::size_t lo, std::size_t hi, std::size_t step) {
  if (step == 0 || lo == 0 || hi < lo)
    throw config_error(
        "resolution_range: need 0 < lo <= hi and step > 0, got lo=" + std::to_string(lo) +
        " hi=" + std::to_string(hi) + " step=" + std::to_string(step));
  std::vector<std::size_t> out;
  for (std::size_t r = lo; r <= hi; r += step) out.push_back(r);
  return out;
}

/// Iterates a dataset in transformed float batches; see the file comment for the determinism
/// contract. The dataset must outlive the loader. Not copyable; one consumer thread.
class batch_loader {
 public:
  /// Validates the settings (config_error naming the bad one).
  batch_loader(const image_dataset& ds, image_transform transform, loader_config cfg)
      : ds_(ds), t_(std::move(transform)), cfg_(std::move(cfg)) {
    const std::string who = "batch_loader: ";
    if (ds_.empty()) throw config_error(who + "dataset " + ds_.name() + " is empty");
    if (cfg_.batch_size == 0) throw config_error(who + "batch_size must be positive");
    t_.validate(ds_.channels());
    check_resolution(cfg_.resolution == 0 ? ds_.height() : cfg_.resolution, "resolution");
    for (std::size_t r : cfg_.resolutions) check_resolution(r, "resolutions entry");
    if (batches_per_epoch() == 0)
      throw config_error(who + "drop_last with batch_size " + std::to_string(cfg_.batch_size) +
                         " leaves no batch from " + std::to_string(ds_.size()) + " images");
    if (cfg_.grain == 0) cfg_.grain = 1;
    reserve(spare_);
  }

  /// A temporary dataset would dangle: keep the dataset in a variable that outlives the loader.
  batch_loader(image_dataset&&, image_transform, loader_config) = delete;

  batch_loader(const batch_loader&) = delete;
  batch_loader& operator=(const batch_loader&) = delete;

  /// Stops and joins the background thread.
  ~batch_loader() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  /// Replaces the per-batch resolution rule (overrides `resolution` and `resolutions`) for every
  /// batch not yet returned.
  void set_resolution_fn(resolution_fn fn) {
    wait_idle();
    fn_ = std::move(fn);
    has_request_ = false;
  }

  /// Uses one fixed resolution for every batch not yet returned (e.g. a subnet's own r at
  /// evaluation).
  void set_resolution(std::size_t r) {
    check_resolution(r, "resolution");
    wait_idle();
    fn_ = nullptr;
    cfg_.resolutions.clear();
    cfg_.resolution = r;
    has_request_ = false;
  }

  /// Resolution of batch `batch_index` in `epoch`.
  std::size_t resolution_for(std::size_t epoch, std::size_t batch_index) const {
    std::size_t r;
    if (fn_) {
      r = fn_(epoch, batch_index);
      check_resolution(r, "resolution callback result");
    } else if (!cfg_.resolutions.empty()) {
      nat::rng g(image_seed(cfg_.seed ^ 0x7265736F6C757469ULL, epoch, batch_index));
      r = cfg_.resolutions[g.index(cfg_.resolutions.size())];
    } else {
      r = cfg_.resolution == 0 ? ds_.height() : cfg_.resolution;
    }
    return r;
  }

  /// Batches in one epoch.
  std::size_t batches_per_epoch() const {
    const std::size_t n = ds_.size(), b = cfg_.batch_size;
    return cfg_.drop_last ? n / b : (n + b - 1) / b;
  }

  /// Dataset positions of epoch `epoch` in visiting order.
  std::vector<std::size_t> epoch_order(std::size_t epoch) const {
    std::vector<std::size_t> order;
    make_order(epoch, order);
    return order;
  }

  /// Positions the loader at batch `first_batch` of `epoch` (exact resume) and, with prefetch,
  /// starts preparing that batch.
  void start_epoch(std::size_t epoch, std::size_t first_batch = 0) {
    if (first_batch > batches_per_epoch())
      throw config_error("batch_loader::start_epoch: first_batch " + std::to_string(first_batch) +
                         " is beyond the " + std::to_string(batches_per_epoch()) +
                         " batches of an epoch");
    epoch_ = epoch;
    pos_ = first_batch;
    started_ = true;
    if (cfg_.prefetch && pos_ < batches_per_epoch()) request(epoch_, pos_);
  }

  /// Fills `out` with the next batch of the current epoch and returns true, or returns false at the
  /// end of the epoch. `out`'s storage is swapped with the loader's spare buffer, so keep reusing
  /// the same `out`: nothing is allocated in the steady state. Rethrows errors of the background
  /// thread.
  bool next(batch& out) {
    if (!started_) start_epoch(0);
    if (pos_ >= batches_per_epoch()) return false;
    if (cfg_.prefetch) {
      if (!has_request_ || req_epoch_ != epoch_ || req_batch_ != pos_) request(epoch_, pos_);
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !busy_; });
      has_request_ = false;
      if (error_) {
        std::exception_ptr e = error_;
        error_ = nullptr;
        std::rethrow_exception(e);
      }
      // The caller's buffer becomes the next spare: size it for the largest known batch now, so a
      // later larger resolution does not allocate mid-epoch.
      reserve(out);
      using std::swap;
      swap(out, spare_);
      lock.unlock();
      ++pos_;
      // At the end of an epoch, guess that the next one starts at batch 0 (start_epoch keeps the
      // result when the guess is right and waits it out otherwise).
      if (pos_ < batches_per_epoch())
        request(epoch_, pos_);
      else
        request(epoch_ + 1, 0);
      return true;
    }
    fill(epoch_, pos_, out, sync_order_, sync_order_epoch_);
    ++pos_;
    return true;
  }

  /// Synchronously computes batch `batch_index` of `epoch` into `out` (what next() would return);
  /// independent of the iteration state.
  void get(std::size_t epoch, std::size_t batch_index, batch& out) {
    if (batch_index >= batches_per_epoch())
      throw config_error("batch_loader::get: batch " + std::to_string(batch_index) +
                         " is beyond the " + std::to_string(batches_per_epoch()) +
                         " batches of an epoch");
    wait_idle();
    fill(epoch, batch_index, out, sync_order_, sync_order_epoch_);
  }

  /// Current epoch.
  std::size_t epoch() const { return epoch_; }
  /// Index of the batch the next call to next() returns.
  std::size_t next_batch_index() const { return pos_; }
  /// The dataset being iterated.
  const image_dataset& dataset() const { return ds_; }
  /// The pipeline applied to every image.
  const image_transform& transform() const { return t_; }

 private:
  static void check_resolution(std::size_t r, const char* what) {
    if (r == 0 || r > detail::max_stack_taps)
      throw config_error(std::string("batch_loader: ") + what + " " + std::to_string(r) +
                         " must be in 1.." + std::to_string(detail::max_stack_taps));
  }

  // Grows b to hold the largest batch the configuration can produce (unknown with a callback).
  void reserve(batch& b) const {
    std::size_t r = cfg_.resolution == 0 ? ds_.height() : cfg_.resolution;
    if (fn_) return;
    if (!cfg_.resolutions.empty())
      r = *std::max_element(cfg_.resolutions.begin(), cfg_.resolutions.end());
    const std::size_t n = cfg_.batch_size;
    b.images.reserve(n * t_.output_channels(ds_.channels()) * r * r);
    b.labels.reserve(n);
    b.indices.reserve(n);
  }

  void make_order(std::size_t epoch, std::vector<std::size_t>& order) const {
    order.resize(ds_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (cfg_.shuffle) {
      nat::rng g(image_seed(cfg_.seed ^ 0x6F726465725F6570ULL, epoch, 0));
      g.shuffle(order.begin(), order.end());
    }
  }

  // Builds batch (epoch, b) into out. `order`/`order_epoch` cache the epoch's permutation so it is
  // computed once per epoch, in storage that is reused.
  void fill(std::size_t epoch, std::size_t b, batch& out, std::vector<std::size_t>& order,
            std::size_t& order_epoch) const {
    if (order_epoch != epoch || order.size() != ds_.size()) {
      make_order(epoch, order);
      order_epoch = epoch;
    }
    const std::size_t r = resolution_for(epoch, b);
    const std::size_t first = b * cfg_.batch_size;
    const std::size_t count = std::min(cfg_.batch_size, ds_.size() - first);
    const std::size_t c = ds_.channels(), h = ds_.height(), w = ds_.width();
    out.reshape(count, t_.output_channels(c), r, r);
    out.epoch = epoch;
    out.index = b;
    for (std::size_t k = 0; k < count; ++k) {
      out.indices[k] = order[first + k];
      out.labels[k] = ds_.label(out.indices[k]);
    }
    const std::size_t isz = out.image_size();
    const std::uint64_t seed = cfg_.seed;
    nat::parallel_for(0, count, cfg_.grain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t k = lo; k < hi; ++k) {
        const std::size_t i = out.indices[k];
        nat::rng g(image_seed(seed, epoch, i));
        apply_transform(t_, ds_.image(i), c, h, w, r, r, g, out.images.data() + k * isz);
      }
    });
  }

  // Asks the worker to build (epoch, b) into spare_. A different job in flight is waited out first:
  // jobs cannot be cancelled, and results are keyed by (epoch, b), so an outdated one is redone.
  void request(std::size_t epoch, std::size_t b) {
    std::unique_lock<std::mutex> lock(mutex_);
    // Already in flight or ready (an error it met is rethrown by next()).
    if (has_request_ && req_epoch_ == epoch && req_batch_ == b) return;
    cv_.wait(lock, [&] { return !busy_; });
    req_epoch_ = epoch;
    req_batch_ = b;
    has_request_ = true;
    busy_ = true;
    error_ = nullptr;
    if (!worker_.joinable()) worker_ = std::thread([this] { run(); });
    lock.unlock();
    cv_.notify_all();
  }

  void wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !busy_; });
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || busy_; });
      if (stop_) return;
      const std::size_t e = req_epoch_, b = req_batch_;
      lock.unlock();
      std::exception_ptr err;
      try {
        fill(e, b, spare_, worker_order_, worker_order_epoch_);
      } catch (...) {
        err = std::current_exception();
      }
      lock.lock();
      error_ = err;
      busy_ = false;
      cv_.notify_all();
    }
  }

  const image_dataset& ds_;
  image_transform t_;
  loader_config cfg_;
  resolution_fn fn_;

  std::size_t epoch_ = 0, pos_ = 0;
  bool started_ = false;

  // Prefetch state, guarded by mutex_: the worker owns spare_ while busy_.
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread worker_;
  batch spare_;
  bool busy_ = false, stop_ = false, has_request_ = false;
  std::size_t req_epoch_ = 0, req_batch_ = 0;
  std::exception_ptr error_;

  std::vector<std::size_t> worker_order_, sync_order_;
  std::size_t worker_order_epoch_ = ~std::size_t(0), sync_order_epoch_ = ~std::size_t(0);
};

}  // namespace nat::data
