#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nat/core/error.hpp>
#include <nat/core/parallel.hpp>
#include <nat/core/rng.hpp>
#include <nat/ops/cpu/depthwise.hpp>
#include <nat/ops/reference/depthwise.hpp>
#include <string>
#include <vector>

namespace {

using nat::ops::depthwise_shape;

template <class T>
std::vector<T> random_nonzero(std::size_t n, nat::rng& g) {
  std::vector<T> v(n);
  // Magnitudes bounded away from zero so the relative error below is meaningful.
  for (auto& e : v) e = T((g.bernoulli(0.5) ? 1 : -1) * g.uniform(0.25, 1.0));
  return v;
}

/// max |a - b| / max |b|: relative to the scale of the result, so cancellation in single outputs
/// does not make a correct kernel fail.
template <class T>
double rel_error(const std::vector<T>& a, const std::vector<T>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(double(a[i]) - double(b[i])));
    den = std::max(den, std::abs(double(b[i])));
  }
  return den == 0 ? num : num / den;
}

std::string describe(const depthwise_shape& s) {
  return "n=" + std::to_string(s.n) + " c=" + std::to_string(s.c) + " h=" + std::to_string(s.h) +
         " w=" + std::to_string(s.w) + " k=" + std::to_string(s.k) +
         " s=" + std::to_string(s.stride) + " p=" + std::to_string(s.pad);
}

template <class T>
void compare_with_reference(const depthwise_shape& s, double tol, std::uint64_t seed) {
  CAPTURE(describe(s));
  nat::rng g(seed);
  const std::size_t oh = s.out_h(), ow = s.out_w();
  const auto x = random_nonzero<T>(s.n * s.c * s.h * s.w, g);
  const auto w = random_nonzero<T>(s.c * s.k * s.k, g);
  const auto dy = random_nonzero<T>(s.n * s.c * oh * ow, g);
  // Pre-filled with garbage to check that every output element is overwritten.
  std::vector<T> y(dy.size(), T(7)), y_ref(dy.size(), T(-7));
  std::vector<T> dx(x.size(), T(7)), dx_ref(x.size(), T(-7));
  std::vector<T> dw(w.size(), T(7)), dw_ref(w.size(), T(-7));
  nat::ops::cpu::depthwise_forward(x.data(), w.data(), y.data(), s);
  nat::ops::reference::depthwise_forward(x.data(), w.data(), y_ref.data(), s);
  CHECK(rel_error(y, y_ref) < tol);
  nat::ops::cpu::depthwise_backward_input(dy.data(), w.data(), dx.data(), s);
  nat::ops::reference::depthwise_backward_input(dy.data(), w.data(), dx_ref.data(), s);
  CHECK(rel_error(dx, dx_ref) < tol);
  nat::ops::cpu::depthwise_backward_weight(x.data(), dy.data(), dw.data(), s);
  nat::ops::reference::depthwise_backward_weight(x.data(), dy.data(), dw_ref.data(), s);
  CHECK(rel_error(dw, dw_ref) < tol);
  // The fused backward computes both gradients in one pass.
  std::fill(dx.begin(), dx.end(), T(7));
  std::fill(dw.begin(), dw.end(), T(7));
  nat::ops::cpu::depthwise_backward(x.data(), dy.data(), w.data(), dx.data(), dw.data(), s);
  CHECK(rel_error(dx, dx_ref) < tol);
  CHECK(rel_error(dw, dw_ref) < tol);
  // The flat path, which the public functions bypass for float on AVX-512 and AVX2 machines.
  std::fill(y.begin(), y.end(), T(7));
  std::fill(dx.begin(), dx.end(), T(7));
  std::fill(dw.begin(), dw.end(), T(7));
  nat::ops::cpu::detail::flat_forward(x.data(), w.data(), y.data(), s);
  CHECK(rel_error(y, y_ref) < tol);
  nat::ops::cpu::detail::flat_backward_input(dy.data(), w.data(), dx.data(), s);
  CHECK(rel_error(dx, dx_ref) < tol);
  nat::ops::cpu::detail::flat_backward_weight(x.data(), dy.data(), dw.data(), s);
  CHECK(rel_error(dw, dw_ref) < tol);
}

template <class T>
void sweep(double tol) {
  std::uint64_t seed = 1;
  for (std::size_t k : {1u, 3u, 5u, 7u})
    for (std::size_t stride : {1u, 2u})
      for (std::size_t pad : {k / 2, std::size_t(0), k / 2 + 1, k + 1}) {
        const std::size_t hw[][2] = {{7, 7},   {7, 11}, {12, 5}, {1, 1}, {2, 2},
                                     {16, 16}, {8, 8},  {4, 4},  {9, 3}};
        for (const auto& d : hw) {
          depthwise_shape s{3, 13, d[0], d[1], k, stride, pad};
          if (s.h + 2 * pad < k || s.w + 2 * pad < k) continue;
          compare_with_reference<T>(s, tol, seed++);
        }
      }
  // The supernet's map sizes (28 and 32 px inputs) with several channel groups of the
  // channel-blocked path (16 channels with AVX-512, 8 with AVX2) and a partial last group.
  for (std::size_t k : {3u, 5u, 7u})
    for (std::size_t stride : {1u, 2u})
      for (std::size_t hw : {4u, 8u, 16u, 2u, 14u, 7u, 1u})
        compare_with_reference<T>({2, 37, hw, hw, k, stride, k / 2}, tol, seed++);
  compare_with_reference<T>({3, 24, 8, 8, 5, 1, 2}, tol, seed++);   // whole groups only
  compare_with_reference<T>({1, 1, 16, 16, 3, 2, 1}, tol, seed++);  // one channel
  // A stride the supernet never uses still has to be right.
  compare_with_reference<T>({2, 5, 11, 10, 5, 3, 2}, tol, seed++);
  // More images than one weight-gradient block, so several partials are reduced.
  compare_with_reference<T>({37, 3, 6, 5, 3, 1, 1}, tol, seed++);
}

}  // namespace

TEST_CASE("cpu depthwise kernels match the reference (float)") { sweep<float>(1e-5); }

TEST_CASE("cpu depthwise kernels match the reference (double)") { sweep<double>(1e-12); }

TEST_CASE("reference depthwise backward matches finite differences") {
  for (const depthwise_shape s :
       {depthwise_shape{2, 3, 5, 6, 3, 1, 1}, depthwise_shape{2, 2, 7, 5, 5, 2, 2},
        depthwise_shape{1, 2, 4, 4, 3, 2, 0}, depthwise_shape{1, 1, 3, 3, 7, 1, 3}}) {
    CAPTURE(describe(s));
    nat::rng g(42);
    auto x = random_nonzero<double>(s.n * s.c * s.h * s.w, g);
    auto w = random_nonzero<double>(s.c * s.k * s.k, g);
    const auto dy = random_nonzero<double>(s.n * s.c * s.out_h() * s.out_w(), g);
    // L(x, w) = sum dy * y(x, w); its gradients are exactly what the backward kernels compute.
    auto loss = [&] {
      std::vector<double> y(dy.size());
      nat::ops::reference::depthwise_forward(x.data(), w.data(), y.data(), s);
      double l = 0;
      for (std::size_t i = 0; i < y.size(); ++i) l += y[i] * dy[i];
      return l;
    };
    std::vector<double> dx(x.size()), dw(w.size());
    nat::ops::reference::depthwise_backward_input(dy.data(), w.data(), dx.data(), s);
    nat::ops::reference::depthwise_backward_weight(x.data(), dy.data(), dw.data(), s);
    const double h = 1e-6;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double keep = x[i];
      x[i] = keep + h;
      const double up = loss();
      x[i] = keep - h;
      const double down = loss();
      x[i] = keep;
      CHECK(dx[i] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6));
    }
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double keep = w[i];
      w[i] = keep + h;
      const double up = loss();
      w[i] = keep - h;
      const double down = loss();
      w[i] = keep;
      CHECK(dw[i] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6));
    }
  }
}

TEST_CASE("cpu depthwise results do not depend on the thread count") {
  const depthwise_shape s{70, 24, 8, 8, 5, 1, 2};
  nat::rng g(7);
  const auto x = random_nonzero<float>(s.n * s.c * s.h * s.w, g);
  const auto w = random_nonzero<float>(s.c * s.k * s.k, g);
  const auto dy = random_nonzero<float>(s.n * s.c * s.out_h() * s.out_w(), g);
  auto run = [&] {
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
    nat::ops::cpu::depthwise_forward(x.data(), w.data(), y.data(), s);
    nat::ops::cpu::depthwise_backward_input(dy.data(), w.data(), dx.data(), s);
    nat::ops::cpu::depthwise_backward_weight(x.data(), dy.data(), dw.data(), s);
    std::vector<float> dx2(x.size()), dw2(w.size());
    nat::ops::cpu::depthwise_backward(x.data(), dy.data(), w.data(), dx2.data(), dw2.data(), s);
    return std::vector<std::vector<float>>{y, dx, dw, dx2, dw2};
  };
  std::vector<std::vector<float>> one;
  {
    nat::thread_limit limit(1);
    one = run();
  }
  const auto many = run();
  for (std::size_t i = 0; i < one.size(); ++i) {
    REQUIRE(one[i].size() == many[i].size());
    CHECK(std::memcmp(one[i].data(), many[i].data(), one[i].size() * sizeof(float)) == 0);
  }
}

TEST_CASE("an empty batch gives a zero weight gradient") {
  const depthwise_shape s{0, 3, 4, 4, 3, 1, 1};
  std::vector<float> none(1), dw(27, 5.f);
  nat::ops::cpu::depthwise_forward(none.data(), none.data(), none.data(), s);
  nat::ops::cpu::depthwise_backward_weight(none.data(), none.data(), dw.data(), s);
  for (float v : dw) CHECK(v == 0.f);
  std::fill(dw.begin(), dw.end(), 5.f);
  nat::ops::cpu::depthwise_backward(none.data(), none.data(), none.data(), none.data(), dw.data(),
                                    s);
  for (float v : dw) CHECK(v == 0.f);
}

TEST_CASE("depthwise kernels reject impossible shapes") {
  std::vector<float> buf(1024);
  const float* c = buf.data();
  float* m = buf.data();
  for (const depthwise_shape s :
       {depthwise_shape{1, 0, 4, 4, 3, 1, 1}, depthwise_shape{1, 2, 4, 4, 0, 1, 1},
        depthwise_shape{1, 2, 4, 4, 3, 0, 1}, depthwise_shape{1, 2, 2, 4, 7, 1, 1}}) {
    CHECK_THROWS_AS(nat::ops::cpu::depthwise_forward(c, c, m, s), nat::shape_error);
    CHECK_THROWS_AS(nat::ops::cpu::depthwise_backward_input(c, c, m, s), nat::shape_error);
    CHECK_THROWS_AS(nat::ops::cpu::depthwise_backward_weight(c, c, m, s), nat::shape_error);
    CHECK_THROWS_AS(nat::ops::reference::depthwise_forward(c, c, m, s), nat::shape_error);
  }
  try {
    nat::ops::cpu::depthwise_forward(c, c, m, depthwise_shape{1, 2, 2, 4, 7, 1, 1});
  } catch (const nat::shape_error& e) {
    const std::string what = e.what();
    CHECK(what.find("depthwise_forward") != std::string::npos);
    CHECK(what.find("[1,2,2,4]") != std::string::npos);
  }
}

TEST_CASE("depthwise output size follows floor((h + 2p - k) / s) + 1") {
  CHECK(depthwise_shape{1, 1, 16, 16, 3, 2, 1}.out_h() == 8);
  CHECK(depthwise_shape{1, 1, 7, 7, 7, 2, 3}.out_w() == 4);
  CHECK(depthwise_shape{1, 1, 8, 5, 5, 1, 0}.out_w() == 1);
  CHECK(depthwise_shape{1, 1, 4, 4, 3, 1, 1}.out_h() == 4);
}
