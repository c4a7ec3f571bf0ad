#include <doctest/doctest.h>

#include <nat/core/parallel.hpp>
#include <vector>

TEST_CASE("parallel_for covers every index exactly once, for any grain") {
  for (std::size_t grain : {0u, 1u, 7u, 1000u, 5000u}) {
    std::vector<int> hit(3001, 0);
    nat::parallel_for(0, hit.size(), grain, [&](std::size_t lo, std::size_t hi) {
      CHECK(lo < hi);
      for (std::size_t i = lo; i < hi; ++i) ++hit[i];
    });
    for (int h : hit) CHECK(h == 1);
  }
}

TEST_CASE("thread_limit restricts and restores concurrency") {
  const auto before = nat::max_threads();
  {
    nat::thread_limit one(1);
    CHECK(nat::max_threads() >= 1);
  }
  CHECK(nat::max_threads() == before);
}
