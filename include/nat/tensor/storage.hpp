#pragma once
/// \file Aligned tensor storage and the process-wide buffer pool behind it.
///
/// Freshly allocated pages are written at ~3.5 GB/s on the target machine (page faults, zeroing by
/// the kernel) against ~35 GB/s into a reused buffer, and a training step allocates the same
/// activation sizes again and again. So storage comes from a size-bucketed free list: a released
/// buffer waits in its bucket and the next request of that bucket gets it back.
#include <cstddef>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "nat/core/device.hpp"
#include "nat/core/error.hpp"

namespace nat {

/// Size-bucketed free-list pool of 64-byte aligned host buffers (thread-safe).
///
/// Buckets are 4 per power of two (waste at most 25%). A request takes the smallest cached buffer
/// of its bucket or a larger one up to twice its size: an OFA supernet trains a different random
/// subnet every step, so activation sizes change from step to step, and exact-size reuse alone
/// missed on most large buffers (bm_elastic/bm_train_random: 115k page faults per step and a
/// 15 GB cache before, 15k and 7.5 GB after; docs/performance/elastic.md). The cache holds at most
/// twice the peak of live bytes (and set_max_cached_bytes). Each buffer records its capacity in a
/// 64-byte header, so a buffer keeps its true size whichever request it served. The pool is the
/// one piece of process-wide mutable state in nat: buffers outlive the tensors that used them by
/// design.
class storage_pool {
 public:
  /// Alignment of every buffer: a cache line, and enough for AVX-512 loads.
  static constexpr std::size_t alignment = 64;

  /// The process-wide pool.
  static storage_pool& instance() {
    static storage_pool* pool = new storage_pool();  // leaked on purpose: outlives static tensors
    return *pool;
  }

  /// A buffer of at least `bytes` bytes (at least bucket_bytes(bytes), at most twice that).
  void* allocate(std::size_t bytes) {
    const std::size_t size = bucket_bytes(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first / 2 <= size) {
        const std::size_t cap = it->first;
        void* p = it->second.back();
        it->second.pop_back();
        if (it->second.empty()) free_.erase(it);
        cached_bytes_ -= cap;
        note_live(cap);
        ++hits_;
        return p;
      }
      ++misses_;
      note_live(size);
    }
    auto* base = static_cast<unsigned char*>(system_alloc(size + header_bytes));
    if (!base) {
      std::lock_guard<std::mutex> lock(mutex_);
      live_bytes_ -= size;
      throw std::bad_alloc();
    }
    *reinterpret_cast<std::size_t*>(base) = size;
    return base + header_bytes;
  }

  /// Returns a buffer obtained from allocate() (`bytes` is the size it was asked for).
  void deallocate(void* p, std::size_t bytes) {
    (void)bytes;
    if (!p) return;
    unsigned char* base = static_cast<unsigned char*>(p) - header_bytes;
    const std::size_t cap = *reinterpret_cast<const std::size_t*>(base);
    std::lock_guard<std::mutex> lock(mutex_);
    live_bytes_ -= cap;
    // Twice the largest working set seen is enough to serve any step from the cache (one
    // working set plus the misfits of another); more only holds memory other processes may need.
    const std::size_t bound =
        2 * peak_live_bytes_ < max_cached_bytes_ ? 2 * peak_live_bytes_ : max_cached_bytes_;
    if (cached_bytes_ + cap > bound) {
      std::free(base);
      return;
    }
    free_[cap].push_back(p);
    cached_bytes_ += cap;
  }

  /// Frees every cached buffer (buffers in use are unaffected).
  void trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& kv : free_)
      for (void* p : kv.second) std::free(static_cast<unsigned char*>(p) - header_bytes);
    free_.clear();
    cached_bytes_ = 0;
  }

  /// Bytes currently parked in the free lists.
  std::size_t cached_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }
  /// Bytes of the buffers handed out and not yet returned (their capacities).
  std::size_t live_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_bytes_;
  }
  /// Largest live_bytes() so far.
  std::size_t peak_live_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_live_bytes_;
  }
  /// Requests served from the free lists so far.
  std::size_t hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
  }
  /// Requests that went to the system allocator so far.
  std::size_t misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
  }
  /// Upper bound on cached bytes (16 GiB by default; the cache also stays within twice
  /// peak_live_bytes()); beyond it released buffers go back to the system.
  void set_max_cached_bytes(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    max_cached_bytes_ = bytes;
  }

  /// Bucket size for a request: a multiple of 64 bytes, 4 sizes per power of two from 256 bytes.
  static std::size_t bucket_bytes(std::size_t bytes) {
    if (bytes <= alignment) return alignment;
    std::size_t p = alignment;
    while (p * 2 < bytes) p *= 2;  // p < bytes <= 2p
    // aligned_alloc wants a multiple of the alignment, so small buckets step by 64 bytes.
    const std::size_t step = p / 4 > alignment ? p / 4 : alignment;
    return (bytes + step - 1) / step * step;
  }

 private:
  /// Room for the capacity in front of each buffer; a full alignment unit keeps data aligned.
  static constexpr std::size_t header_bytes = alignment;

  /// Buffers from this size on are backed by 2 MB transparent huge pages where the system
  /// offers them (Linux, THP "madvise" or "always"): kernels that walk an NCHW activation channel
  /// by channel touch a new 4 kB page every row (batch norm on [128,576,4,4]: 128 pages per
  /// channel), so with small pages they are TLB-bound.
  static constexpr std::size_t huge_page_bytes = std::size_t(2) << 20;

  static void* system_alloc(std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= huge_page_bytes) {
      const std::size_t total = (bytes + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
      void* p = std::aligned_alloc(huge_page_bytes, total);
      if (p) madvise(p, total, MADV_HUGEPAGE);  // a hint: failure leaves small pages
      return p;
    }
#endif
    return std::aligned_alloc(alignment, bytes);
  }

  storage_pool() = default;

  void note_live(std::size_t bytes) {
    live_bytes_ += bytes;
    if (live_bytes_ > peak_live_bytes_) peak_live_bytes_ = live_bytes_;
  }

  mutable std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;  // capacity → buffers; no empty lists
  std::size_t cached_bytes_ = 0;
  std::size_t max_cached_bytes_ = std::size_t(16) << 30;
  std::size_t live_bytes_ = 0;
  std::size_t peak_live_bytes_ = 0;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

/// Scratch array of n elements from the storage pool, returned on destruction: kernels use it
/// for workspaces so that hot loops reuse warm memory instead of page-faulting fresh allocations.
template <class T>
class pooled_buffer {
 public:
  explicit pooled_buffer(std::size_t n)
      : n_(n), data_(static_cast<T*>(storage_pool::instance().allocate((n ? n : 1) * sizeof(T)))) {}
  pooled_buffer(const pooled_buffer&) = delete;
  pooled_buffer& operator=(const pooled_buffer&) = delete;
  ~pooled_buffer() { storage_pool::instance().deallocate(data_, (n_ ? n_ : 1) * sizeof(T)); }
  /// First element.
  T* data() const { return data_; }
  /// Number of elements.
  std::size_t size() const { return n_; }

 private:
  std::size_t n_;
  T* data_;
};

namespace detail {

/// One block of elements shared by every tensor that views it.
template <class T>
class storage {
 public:
  storage(std::size_t n, nat::device dev) : size_(n), device_(dev) {
    if (dev != nat::device::cpu)
      throw device_error("tensor: device " + to_string(dev) +
                         " storage is not available in this build");
    data_ = static_cast<T*>(storage_pool::instance().allocate(bytes()));
  }
  storage(const storage&) = delete;
  storage& operator=(const storage&) = delete;
  ~storage() { storage_pool::instance().deallocate(data_, bytes()); }

  T* data() const { return data_; }
  std::size_t size() const { return size_; }
  nat::device device() const { return device_; }

 private:
  std::size_t bytes() const { return (size_ ? size_ : 1) * sizeof(T); }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  nat::device device_ = nat::device::cpu;
};

}  // namespace detail
}  // namespace nat
