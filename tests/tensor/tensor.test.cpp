#include <doctest/doctest.h>

#include <nat/tensor/tensor.hpp>
#include <vector>

TEST_CASE("shape: braces of any integral type, numel, printing, errors") {
  int n = 3;
  std::size_t c = 13;
  nat::shape s{n, c, 7, 7};
  CHECK(s.rank() == 4);
  CHECK(s.numel() == 3u * 13u * 49u);
  CHECK(nat::to_string(s) == "[3, 13, 7, 7]");
  CHECK(nat::shape{}.numel() == 1);
  CHECK(nat::shape(std::vector<std::size_t>{2, 5}) == nat::shape{2, 5});
  CHECK_THROWS_AS(nat::shape(-1, 2), nat::shape_error);
}

TEST_CASE_TEMPLATE("tensor creation", T, float, double) {
  auto z = nat::tensor<T>::zeros({2, 3});
  CHECK(z.numel() == 6);
  CHECK(z.device() == nat::device::cpu);
  CHECK(reinterpret_cast<std::uintptr_t>(z.data()) % 64 == 0);
  for (T v : z.to_vector()) CHECK(v == 0);
  auto o = nat::tensor<T>::full({4}, T(2.5));
  for (T v : o.to_vector()) CHECK(v == T(2.5));
  auto a = nat::tensor<T>::randn({100}, 7), b = nat::tensor<T>::randn({100}, 7),
       c = nat::tensor<T>::randn({100}, 8);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  auto f = nat::tensor<T>::from_vector({2, 2}, {1, 2, 3, 4});
  CHECK(f.at(1, 0) == 3);
  CHECK_THROWS_AS(nat::tensor<T>::from_vector({2, 2}, {1, 2, 3}), nat::shape_error);
  CHECK_THROWS_AS(f.item(), nat::shape_error);
  CHECK_THROWS_AS(f.to(nat::device::cuda), nat::not_supported);
  CHECK(f.to(nat::device::cpu).shares_storage_with(f));
}

TEST_CASE("views share storage: narrow, slice, reshape, contiguous") {
  auto t = nat::tensorf::from_vector({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  auto v = t.narrow(1, 1, 2);  // [2,2,2]
  CHECK(v.shape() == nat::shape{2, 2, 2});
  CHECK(!v.is_contiguous());
  CHECK(v.shares_storage_with(t));
  CHECK(v.to_vector() == std::vector<float>{2, 3, 4, 5, 8, 9, 10, 11});
  v.at(1, 0, 1) = 100;  // writes through to t
  CHECK(t.at(1, 1, 1) == 100);
  auto c = v.contiguous();
  CHECK(c.is_contiguous());
  CHECK(!c.shares_storage_with(t));
  CHECK(c.to_vector() == v.to_vector());
  CHECK_THROWS_AS(v.reshape({8}), nat::shape_error);
  CHECK_THROWS_AS(t.reshape({5}), nat::shape_error);
  auto r = t.reshape({6, 2});
  CHECK(r.shares_storage_with(t));
  CHECK(r.at(5, 1) == 11);
  auto p = t.slice(0, 1);  // prefix along dim 0 is contiguous
  CHECK(p.is_contiguous());
  CHECK(p.numel() == 6);
  CHECK_THROWS_AS(t.narrow(1, 2, 2), nat::shape_error);
  v.fill(-1);
  CHECK(t.at(0, 0, 0) == 0);
  CHECK(t.at(0, 1, 0) == -1);
  auto src = nat::tensorf::ones({2, 2, 2});
  v.copy_from(src);
  CHECK(t.at(1, 2, 1) == 1);
  CHECK(t.at(1, 0, 1) == 7);
  CHECK_THROWS_AS(v.copy_from(nat::tensorf::ones({2, 2})), nat::shape_error);
}

TEST_CASE("storage pool reuses released buffers") {
  auto& pool = nat::storage_pool::instance();
  float* first;
  {
    auto t = nat::tensorf::empty({1000, 37});
    first = t.data();
  }
  const auto hits = pool.hits();
  auto t2 = nat::tensorf::empty({1000, 37});
  CHECK(pool.hits() == hits + 1);
  CHECK(t2.data() == first);
  CHECK(nat::storage_pool::bucket_bytes(1) == 64);
  for (std::size_t b : {1u, 65u, 130u, 160u, 1000u, 5000u, 123457u}) {
    CHECK(nat::storage_pool::bucket_bytes(b) % 64 == 0);  // aligned_alloc's requirement
    CHECK(nat::storage_pool::bucket_bytes(b) >= b);
  }
  CHECK(nat::storage_pool::bucket_bytes(1000) >= 1000);
  CHECK(nat::storage_pool::bucket_bytes(1000) <= 1250);
}

TEST_CASE("storage pool serves a request from a larger cached buffer up to twice its size") {
  auto& pool = nat::storage_pool::instance();
  pool.trim();
  float* big;
  {
    auto t = nat::tensorf::empty({100000});  // 400 kB
    big = t.data();
  }
  CHECK(pool.cached_bytes() >= 400000);
  {
    auto t = nat::tensorf::empty({60000});  // 240 kB: the 400 kB buffer fits within 2x
    CHECK(t.data() == big);
    CHECK(pool.cached_bytes() == 0);
    t.fill(1.0f);
  }
  // Returned with its own capacity, not the smaller request's: it serves 400 kB again.
  CHECK(pool.cached_bytes() >= 400000);
  {
    auto t = nat::tensorf::empty({100000});
    CHECK(t.data() == big);
  }
  {
    auto t = nat::tensorf::empty({30000});  // 120 kB: too small to tie up the 400 kB buffer
    CHECK(t.data() != big);
  }
  CHECK(pool.live_bytes() < pool.peak_live_bytes());
  pool.trim();
  CHECK(pool.cached_bytes() == 0);
}
