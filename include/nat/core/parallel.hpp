#pragma once
/// \file Parallel loops over index ranges: oneTBB when built with NAT_WITH_TBB, a serial loop
/// otherwise.
///
/// Callers split work into fixed blocks whose results do not depend on which thread runs them, so
/// results are identical with and without TBB and for any thread count (no atomics in reductions).
#include <cstddef>
#include <memory>
#include <thread>

#if defined(NAT_WITH_TBB)
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

namespace nat {

/// Calls body(lo, hi) on disjoint sub-ranges covering [begin, end), each at most `grain` long when
/// > 0.
template <class Body>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, Body&& body) {
  if (end <= begin) return;
  if (grain == 0) grain = 1;
#if defined(NAT_WITH_TBB)
  if (end - begin <= grain) {
    body(begin, end);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(begin, end, grain),
      [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); },
      tbb::simple_partitioner());
#else
  for (std::size_t lo = begin; lo < end; lo += grain) body(lo, lo + grain < end ? lo + grain : end);
#endif
}

/// Calls body(i) for every i in [begin, end), in parallel when TBB is available.
template <class Body>
void parallel_for_each_index(std::size_t begin, std::size_t end, Body&& body) {
  parallel_for(begin, end, 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) body(i);
  });
}

/// Number of worker threads parallel_for may use right now.
inline std::size_t max_threads() {
#if defined(NAT_WITH_TBB)
  const auto arena = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  const auto limit =
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  return arena < limit ? arena : limit;
#else
  return 1;
#endif
}

/// RAII limit on the number of threads nat's parallel loops use (process-wide while alive).
class thread_limit {
 public:
  explicit thread_limit(std::size_t n) {
#if defined(NAT_WITH_TBB)
    control_ = std::make_shared<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                     n == 0 ? 1 : n);
#else
    (void)n;
#endif
  }

 private:
  std::shared_ptr<void> control_;
};

/// True when this build runs parallel loops through oneTBB.
constexpr bool with_tbb() {
#if defined(NAT_WITH_TBB)
  return true;
#else
  return false;
#endif
}

}  // namespace nat
