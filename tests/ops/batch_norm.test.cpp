#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/ops/batch_norm.hpp>
#include <nat/ops/reference/batch_norm.hpp>
#include <type_traits>
#include <vector>

#include "helpers.hpp"

using nat_test::check_gradients;
using nat_test::param;
using nat_test::rel_error;

TEST_CASE("batch_norm training matches the reference, forward and backward (float, odd sizes)") {
  const std::size_t n = 3, c = 13, h = 7;
  auto x = nat::tensorf::randn({n, c, h, h}, 1, 0.5f, 2.0f).set_requires_grad(true);
  auto w = nat::tensorf::randn({c}, 2).set_requires_grad(true);
  auto b = nat::tensorf::randn({c}, 3).set_requires_grad(true);
  auto y = nat::ops::batch_norm(x, w, b, nat::tensorf(), nat::tensorf(), true);
  nat::ops::batch_norm_shape s{n, c, h * h};
  std::vector<float> ref(y.numel()), mean(c), var(c);
  nat::ops::reference::batch_norm_train_forward(x.data(), w.data(), b.data(), ref.data(),
                                                mean.data(), var.data(), 1e-5f, s);
  CHECK(rel_error(y.to_vector(), ref) < 1e-5);
  auto gy = nat::tensorf::randn(y.shape(), 4);
  nat::autograd::backward(y, gy);
  std::vector<float> gx(x.numel()), gw(c), gb(c);
  nat::ops::reference::batch_norm_train_backward(x.data(), gy.data(), w.data(), 1e-5f, gx.data(),
                                                 gw.data(), gb.data(), s);
  CHECK(rel_error(x.grad().to_vector(), gx) < 1e-5);
  CHECK(rel_error(w.grad().to_vector(), gw) < 1e-5);
  CHECK(rel_error(b.grad().to_vector(), gb) < 1e-5);
}

TEST_CASE("batch_norm updates running statistics in place through prefix views (PyTorch rule)") {
  const std::size_t n = 3, c = 5, h = 4, cmax = 8;
  auto x = nat::tensord::randn({n, c, h, h}, 1, 1.0, 3.0);
  auto rm = nat::tensord::full({cmax}, 0.5), rv = nat::tensord::full({cmax}, 2.0);
  nat::ops::batch_norm(x, nat::tensord(), nat::tensord(), rm.slice(0, c), rv.slice(0, c), true);
  const double cnt = n * h * h;
  for (std::size_t ch = 0; ch < c; ++ch) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t p = 0; p < h * h; ++p) m += x.at(i, ch, p / h, p % h);
    m /= cnt;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t p = 0; p < h * h; ++p) v += std::pow(x.at(i, ch, p / h, p % h) - m, 2);
    CHECK(rm.at(ch) == doctest::Approx(0.9 * 0.5 + 0.1 * m));
    CHECK(rv.at(ch) == doctest::Approx(0.9 * 2.0 + 0.1 * v / (cnt - 1)));  // unbiased
  }
  for (std::size_t ch = c; ch < cmax; ++ch) {  // the rest of the buffer is untouched
    CHECK(rm.at(ch) == 0.5);
    CHECK(rv.at(ch) == 2.0);
  }
  // Evaluation normalises with the running statistics.
  auto y = nat::ops::batch_norm(x, nat::tensord(), nat::tensord(), rm.slice(0, c), rv.slice(0, c),
                                false);
  CHECK(y.at(1, 2, 3, 1) ==
        doctest::Approx((x.at(1, 2, 3, 1) - rm.at(2)) / std::sqrt(rv.at(2) + 1e-5)));
}

TEST_CASE("batch_norm gradients (double): training and evaluation, NCHW and NC") {
  using V = std::vector<nat::tensord>;
  check_gradients(
      [](const V& in) {
        return nat::ops::batch_norm(in[0], in[1], in[2], nat::tensord(), nat::tensord(), true);
      },
      {param({3, 4, 3, 3}, 1, 2.0), param({4}, 2), param({4}, 3)});
  check_gradients(
      [](const V& in) {
        return nat::ops::batch_norm(in[0], in[1], in[2], nat::tensord(), nat::tensord(), true);
      },
      {param({5, 3}, 1), param({3}, 2), param({3}, 3)});
  auto rm = nat::tensord::randn({4}, 7), rv = nat::tensord::uniform({4}, 8, 0.5, 2.0);
  check_gradients(
      [rm, rv](const V& in) { return nat::ops::batch_norm(in[0], in[1], in[2], rm, rv, false); },
      {param({3, 4, 3, 3}, 1), param({4}, 2), param({4}, 3)});
}

TEST_CASE("batch_norm rejects channel mismatches and missing statistics") {
  auto x = nat::tensorf::zeros({2, 6, 3, 3});
  CHECK_THROWS_AS(nat::ops::batch_norm(x, nat::tensorf::ones({5}), nat::tensorf(), nat::tensorf(),
                                       nat::tensorf(), true),
                  nat::shape_error);
  CHECK_THROWS_AS(nat::ops::batch_norm(x, nat::tensorf(), nat::tensorf(), nat::tensorf(),
                                       nat::tensorf(), false),
                  nat::shape_error);
  CHECK_THROWS_AS(nat::ops::batch_norm(nat::tensorf::zeros({2, 6, 3}), nat::tensorf(),
                                       nat::tensorf(), nat::tensorf(), nat::tensorf(), true),
                  nat::shape_error);
}

namespace {

// The vectorised kernels against the naive double oracle on one shape; x ~ mean ± spread.
template <class T>
void check_kernels_against_reference(const nat::ops::batch_norm_shape& s, double mean,
                                     double spread, double tol) {
  CAPTURE(s.n);
  CAPTURE(s.c);
  CAPTURE(s.hw);
  CAPTURE(mean);
  const std::size_t total = s.n * s.c * s.hw;
  auto x = nat::tensor<T>::randn({total}, 11, T(mean), T(spread));
  auto gy = nat::tensor<T>::randn({total}, 12);
  auto w = nat::tensor<T>::randn({s.c}, 13);
  auto b = nat::tensor<T>::randn({s.c}, 14);
  const T eps = T(1e-5);
  std::vector<T> y(total), mean_v(s.c), var_v(s.c), invstd(s.c), ry(total), rmean(s.c), rvar(s.c);
  nat::ops::cpu::batch_norm_train_forward(x.data(), w.data(), b.data(), y.data(), mean_v.data(),
                                          var_v.data(), invstd.data(), eps, s);
  nat::ops::reference::batch_norm_train_forward(x.data(), w.data(), b.data(), ry.data(),
                                                rmean.data(), rvar.data(), eps, s);
  CHECK(rel_error(y, ry) < tol);
  CHECK(rel_error(mean_v, rmean) < tol);
  CHECK(rel_error(var_v, rvar) < tol);
  for (std::size_t c = 0; c < s.c; ++c)
    CHECK(double(invstd[c]) ==
          doctest::Approx(1.0 / std::sqrt(double(rvar[c]) + 1e-5)).epsilon(tol));

  std::vector<T> gx(total), gw(s.c), gb(s.c), rgx(total), rgw(s.c), rgb(s.c);
  nat::ops::cpu::batch_norm_backward(x.data(), gy.data(), w.data(), mean_v.data(), invstd.data(),
                                     true, gx.data(), gw.data(), gb.data(), s);
  nat::ops::reference::batch_norm_train_backward(x.data(), gy.data(), w.data(), eps, rgx.data(),
                                                 rgw.data(), rgb.data(), s);
  CHECK(rel_error(gx, rgx) < tol);
  CHECK(rel_error(gw, rgw) < tol);
  CHECK(rel_error(gb, rgb) < tol);

  // Evaluation: affine with the statistics; backward gx = w·invstd·gy.
  nat::ops::cpu::batch_norm_apply(x.data(), w.data(), b.data(), mean_v.data(), invstd.data(),
                                  y.data(), s);
  CHECK(rel_error(y, ry) < tol);
  nat::ops::cpu::batch_norm_backward(x.data(), gy.data(), w.data(), mean_v.data(), invstd.data(),
                                     false, gx.data(), gw.data(), gb.data(), s);
  for (std::size_t n = 0; n < s.n; ++n)
    for (std::size_t c = 0; c < s.c; ++c)
      for (std::size_t q = 0; q < s.hw; ++q) {
        const std::size_t i = (n * s.c + c) * s.hw + q;
        rgx[i] = T(double(w.data()[c]) * double(invstd[c]) * double(gy.data()[i]));
      }
  CHECK(rel_error(gx, rgx) < tol);
}

}  // namespace

TEST_CASE_TEMPLATE("batch_norm cpu kernels match the reference at odd sizes and lane tails", T,
                   float, double) {
  const double tol = std::is_same<T, float>::value ? 2e-5 : 1e-12;
  // hw: 1 ([N,C]), below one lane block, a block plus a tail, several blocks; n past one flush.
  const std::vector<nat::ops::batch_norm_shape> shapes = {
      {5, 3, 1}, {3, 13, 7}, {7, 5, 17}, {2, 4, 49}, {130, 3, 4}, {3, 2, 300}, {1, 1, 33}};
  for (const auto& s : shapes) check_kernels_against_reference<T>(s, 0.5, 2.0, tol);
}

TEST_CASE("batch_norm cpu kernels keep precision for data far from zero (1000 ± 1)") {
  // E[x²] − E[x]² would cancel 6 of float's 7 digits here; the shifted sums must not.
  const std::vector<nat::ops::batch_norm_shape> shapes = {{64, 3, 49}, {5, 7, 1}, {128, 2, 4}};
  for (const auto& s : shapes) check_kernels_against_reference<float>(s, 1000.0, 1.0, 2e-4);
  check_kernels_against_reference<double>({64, 3, 49}, 1e6, 1.0, 1e-8);
}

TEST_CASE(
    "batch_norm returns batch statistics and accepts one value per channel without running "
    "statistics") {
  auto x = nat::tensorf::randn({4, 3, 2, 2}, 5, 1.0f, 2.0f);
  nat::ops::batch_norm_statistics<float> st;
  nat::ops::batch_norm(x, nat::tensorf(), nat::tensorf(), nat::tensorf(), nat::tensorf(), true, 0.1,
                       1e-5, &st);
  REQUIRE(st.mean.numel() == 3);
  std::vector<float> ref(x.numel()), mean(3), var(3);
  nat::ops::reference::batch_norm_train_forward<float>(x.data(), nullptr, nullptr, ref.data(),
                                                       mean.data(), var.data(), 1e-5f, {4, 3, 4});
  CHECK(rel_error(st.mean.to_vector(), mean) < 1e-6);
  CHECK(rel_error(st.var.to_vector(), var) < 1e-6);
  // One value per channel: a degenerate batch (output = bias), but only the running update
  // needs two.
  auto one = nat::tensorf::randn({1, 3, 1, 1}, 6);
  auto y = nat::ops::batch_norm(one, nat::tensorf(), nat::tensorf::full({3}, 0.25f), nat::tensorf(),
                                nat::tensorf(), true);
  for (float v : y.to_vector()) CHECK(v == doctest::Approx(0.25f));
  CHECK_THROWS_AS(nat::ops::batch_norm(one, nat::tensorf(), nat::tensorf(),
                                       nat::tensorf::zeros({3}), nat::tensorf::ones({3}), true),
                  nat::shape_error);
}

TEST_CASE("batch_norm generic (non-AVX-512) float sums match double sums") {
  // Explicit template arguments pick the portable template even where the AVX-512 overloads
  // exist, so CI machines with AVX-512 still test the path other CPUs run.
  for (const nat::ops::batch_norm_shape s :
       {nat::ops::batch_norm_shape{5, 3, 1}, nat::ops::batch_norm_shape{70, 2, 7},
        nat::ops::batch_norm_shape{3, 2, 49}, nat::ops::batch_norm_shape{2, 1, 300}}) {
    CAPTURE(s.hw);
    const std::size_t total = s.n * s.c * s.hw;
    auto x = nat::tensorf::randn({total}, 21, 1000.0f, 1.0f);
    auto g = nat::tensorf::randn({total}, 22);
    for (std::size_t c = 0; c < s.c; ++c) {
      const float k = x.data()[c * s.hw];
      double s1, s2, sg, sgx, r1 = 0, r2 = 0, rg = 0, rgx = 0;
      nat::ops::cpu::detail::shifted_sums<float>(x.data(), c, k, s, s1, s2);
      nat::ops::cpu::detail::grad_sums<nat::ops::cpu::detail::bn_identity, float>(
          x.data(), g.data(), c, k, 0.0f, 0.0f, s, sg, sgx);
      for (std::size_t n = 0; n < s.n; ++n)
        for (std::size_t q = 0; q < s.hw; ++q) {
          const std::size_t i = (n * s.c + c) * s.hw + q;
          const double d = double(x.data()[i]) - double(k);
          r1 += d;
          r2 += d * d;
          rg += g.data()[i];
          rgx += double(g.data()[i]) * d;
        }
      const double cnt = double(s.count());
      CHECK(s1 / cnt == doctest::Approx(r1 / cnt).epsilon(1e-5));
      CHECK(s2 / cnt == doctest::Approx(r2 / cnt).epsilon(1e-5));
      CHECK(sg == doctest::Approx(rg).epsilon(1e-5));
      CHECK(sgx == doctest::Approx(rgx).epsilon(1e-5));
    }
  }
}

namespace {

using act_list = std::vector<nat::ops::bn_activation>;
const act_list fused_acts = {nat::ops::bn_activation::relu, nat::ops::bn_activation::relu6,
                             nat::ops::bn_activation::hswish};

template <class T>
nat::tensor<T> separate_act(const nat::tensor<T>& z, nat::ops::bn_activation a) {
  switch (a) {
    case nat::ops::bn_activation::relu:
      return nat::ops::relu(z);
    case nat::ops::bn_activation::relu6:
      return nat::ops::relu6(z);
    default:
      return nat::ops::hswish(z);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("batch_norm_act (fused) equals batch_norm then the activation, both ways", T,
                   float, double) {
  // float runs the AVX-512 kernels where the CPU has them, double the portable ones.
  const double tol = std::is_same<T, float>::value ? 1e-5 : 1e-12;
  for (const auto act : fused_acts)
    for (const std::size_t h : {1, 3, 4, 5, 7, 14}) {
      CAPTURE(int(act));
      CAPTURE(h);
      const std::size_t n = 4, c = 6;
      // Scale 3 around 0.5: values on both sides of every kink (0, 6, ±3).
      auto x = nat::tensor<T>::randn({n, c, h, h}, 11 + h, T(0.5), T(3)).set_requires_grad(true);
      auto w = nat::tensor<T>::uniform({c}, 12, T(0.5), T(4)).set_requires_grad(true);
      auto b = nat::tensor<T>::randn({c}, 13, T(0), T(2)).set_requires_grad(true);
      auto rm = nat::tensor<T>::zeros({c}), rv = nat::tensor<T>::ones({c});
      auto x2 = x.detach().clone().set_requires_grad(true);
      auto w2 = w.detach().clone().set_requires_grad(true);
      auto b2 = b.detach().clone().set_requires_grad(true);
      auto rm2 = rm.clone(), rv2 = rv.clone();
      auto y = nat::ops::batch_norm_act(x, w, b, rm, rv, true, act);
      auto y2 = separate_act(nat::ops::batch_norm(x2, w2, b2, rm2, rv2, true), act);
      CHECK(rel_error(y.to_vector(), y2.to_vector()) < tol);
      CHECK(rel_error(rm.to_vector(), rm2.to_vector()) < tol);  // the running update is shared
      CHECK(rel_error(rv.to_vector(), rv2.to_vector()) < tol);
      auto gy = nat::tensor<T>::randn(y.shape(), 14);
      nat::autograd::backward(y, gy);
      nat::autograd::backward(y2, gy);
      CHECK(rel_error(x.grad().to_vector(), x2.grad().to_vector()) < tol);
      CHECK(rel_error(w.grad().to_vector(), w2.grad().to_vector()) < tol);
      CHECK(rel_error(b.grad().to_vector(), b2.grad().to_vector()) < tol);
    }
}

TEST_CASE("batch_norm_act gradients (double) pass finite differences; evaluation runs apart") {
  using V = std::vector<nat::tensord>;
  for (const auto act : fused_acts) {
    CAPTURE(int(act));
    check_gradients(
        [act](const V& in) {
          return nat::ops::batch_norm_act(in[0], in[1], in[2], nat::tensord(), nat::tensord(), true,
                                          act);
        },
        {param({3, 4, 3, 3}, 1, 2.0), param({4}, 2), param({4}, 3)});
  }
  // Evaluation: the running statistics, then the activation.
  auto x = nat::tensord::randn({2, 3, 2, 2}, 4, 0.0, 3.0);
  auto rm = nat::tensord::randn({3}, 5), rv = nat::tensord::uniform({3}, 6, 0.5, 2.0);
  auto y = nat::ops::batch_norm_act(x, nat::tensord(), nat::tensord(), rm, rv, false,
                                    nat::ops::bn_activation::relu6);
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const std::size_t ch = (i / 4) % 3;
    const double z = (x.data()[i] - rm.at(ch)) / std::sqrt(rv.at(ch) + 1e-5);
    CHECK(y.data()[i] == doctest::Approx(std::min(6.0, std::max(0.0, z))));
  }
}

TEST_CASE("batch_norm_act: the portable float kernels match the vector ones") {
  // Explicit template arguments pick the portable templates even on AVX-512 machines.
  namespace d = nat::ops::cpu::detail;
  const nat::ops::batch_norm_shape s{6, 2, 23};
  const std::size_t total = s.n * s.c * s.hw;
  auto x = nat::tensorf::randn({total}, 31, 0.5f, 3.0f);
  auto g = nat::tensorf::randn({total}, 32);
  const float sc = 1.7f, sh = -0.4f, k = x.data()[0];
  std::vector<float> y1(total), y2(total), gx1(total), gx2(total);
  d::normalise<d::bn_hswish, float>(x.data(), y1.data(), 0, k, sc, sh, s);
  d::normalise<d::bn_hswish>(x.data(), y2.data(), 0, k, sc, sh, s);
  d::grad_input<d::bn_hswish, float>(x.data(), g.data(), gx1.data(), 0, k, sc, sh, 0.3f, -0.2f,
                                     0.1f, s);
  d::grad_input<d::bn_hswish>(x.data(), g.data(), gx2.data(), 0, k, sc, sh, 0.3f, -0.2f, 0.1f, s);
  double s1, s2, r1, r2;
  d::grad_sums<d::bn_relu, float>(x.data(), g.data(), 0, k, sc, sh, s, s1, s2);
  d::grad_sums<d::bn_relu>(x.data(), g.data(), 0, k, sc, sh, s, r1, r2);
  for (std::size_t n = 0; n < s.n; ++n)  // channel 0 only
    for (std::size_t q = 0; q < s.hw; ++q) {
      const std::size_t i = n * s.c * s.hw + q;
      CHECK(y1[i] == doctest::Approx(y2[i]).epsilon(1e-6));
      CHECK(gx1[i] == doctest::Approx(gx2[i]).epsilon(1e-5));
    }
  CHECK(s1 == doctest::Approx(r1).epsilon(1e-5));
  CHECK(s2 == doctest::Approx(r2).epsilon(1e-5));
}

TEST_CASE("batch_norm sums: the vector kernels (AVX-512 or AVX2) match the portable ones") {
  // Explicit template arguments pick the portable templates; the others resolve to the vector
  // overloads where the build has them (to the same templates otherwise).
  namespace d = nat::ops::cpu::detail;
  for (const nat::ops::batch_norm_shape s :
       {nat::ops::batch_norm_shape{6, 2, 23}, nat::ops::batch_norm_shape{5, 2, 64},
        nat::ops::batch_norm_shape{40, 1, 7}, nat::ops::batch_norm_shape{3, 2, 16}}) {
    CAPTURE(s.hw);
    const std::size_t total = s.n * s.c * s.hw;
    auto x = nat::tensorf::randn({total}, 41, 0.5f, 3.0f);
    auto g = nat::tensorf::randn({total}, 42);
    const float sc = 1.3f, sh = -0.2f, k = x.data()[s.hw];
    double a1, a2, b1, b2;
    d::shifted_sums<float>(x.data(), 1 % s.c, k, s, a1, a2);
    d::shifted_sums(x.data(), 1 % s.c, k, s, b1, b2);
    CHECK(b1 == doctest::Approx(a1).epsilon(1e-6));
    CHECK(b2 == doctest::Approx(a2).epsilon(1e-6));
    auto check_act = [&](auto act) {
      using Act = decltype(act);
      d::grad_sums<Act, float>(x.data(), g.data(), 1 % s.c, k, sc, sh, s, a1, a2);
      d::grad_sums<Act>(x.data(), g.data(), 1 % s.c, k, sc, sh, s, b1, b2);
      CHECK(b1 == doctest::Approx(a1).epsilon(1e-5));
      CHECK(b2 == doctest::Approx(a2).epsilon(1e-5));
    };
    check_act(d::bn_identity{});
    check_act(d::bn_relu{});
    check_act(d::bn_relu6{});
    check_act(d::bn_hswish{});
  }
}
