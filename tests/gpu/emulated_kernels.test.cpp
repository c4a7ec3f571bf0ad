// The CUDA kernels themselves, run on the CPU by tests/gpu/emulator.hpp (one fiber per CUDA
// thread), against the same naive oracles as the device tests. These run on every machine: they
// check the kernels' indexing, tiling, barriers, shuffle trees and split reductions where no GPU is
// available. Launch geometry mirrors the launchers in cuda/*.cu, plus smaller grids to exercise the
// grid-stride loops.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "depthwise_reference.hpp"
#include "gpu_test_util.hpp"

// clang-format off
#include "emulator.hpp"  // must precede the kernel headers: it defines the CUDA vocabulary
#include "../../cuda/batch_norm.cuh"
#include "../../cuda/depthwise_conv_backward_input.cuh"
#include "../../cuda/depthwise_conv_backward_weight.cuh"
#include "../../cuda/depthwise_conv_forward.cuh"
#include "../../cuda/kernel_transform.cuh"
#include "../../cuda/pointwise_conv.cuh"
// clang-format on

using namespace nat_gpu_test;
using nat_emu::dim3;
namespace k = nat::ops::cuda;

namespace {

template <int K, int S>
void emulate_depthwise(const depthwise_shape& s, const std::vector<float>& x,
                       const std::vector<float>& w, const std::vector<float>& g,
                       std::vector<float>& y, std::vector<float>& dx, std::vector<float>& dw,
                       unsigned max_grid) {
  const int ho = s.out_h(), wo = s.out_w(), planes = s.n * s.c;
  y.assign(static_cast<std::size_t>(planes) * ho * wo, -7.f);
  dx.assign(x.size(), -7.f);
  dw.assign(w.size(), -7.f);
  // Forward: tile as the launcher picks it, z capped at max_grid to run the plane loop.
  const unsigned gz = static_cast<unsigned>(std::min<int>(planes, static_cast<int>(max_grid)));
  const int t = k::forward_tile(ho, wo);
  nat_emu::launch(dim3((wo + t - 1) / t, (ho + t - 1) / t, gz), dim3(t, t), [&] {
    if (t == 8) {
      k::depthwise_forward_tiled<K, S, 8>(x.data(), w.data(), y.data(), planes, s.c, s.h, s.w, ho,
                                          wo, s.padding);
    } else {
      k::depthwise_forward_tiled<K, S, 16>(x.data(), w.data(), y.data(), planes, s.c, s.h, s.w, ho,
                                           wo, s.padding);
    }
  });
  // Input gradient: a grid-stride loop over N*C*H*W with max_grid blocks of 256.
  const long long total = static_cast<long long>(x.size());
  nat_emu::launch(dim3(max_grid), dim3(256), [&] {
    k::depthwise_backward_input<K, S>(g.data(), w.data(), dx.data(), total, s.c, s.h, s.w, ho, wo,
                                      s.padding);
  });
  // Weight gradient exactly as the launcher does it.
  const long long positions = static_cast<long long>(s.n) * ho * wo;
  const long long splits = k::detail::dw_weight_grad_splits(positions);
  const long long split_size = k::detail::dw_weight_grad_split_size(positions, splits);
  std::vector<float> partial(static_cast<std::size_t>(splits) * w.size(), -7.f);
  float* out = splits == 1 ? dw.data() : partial.data();
  nat_emu::launch(dim3(s.c, static_cast<unsigned>(splits)), dim3(k::dw_weight_block_threads), [&] {
    k::depthwise_backward_weight_partial<K, S>(x.data(), g.data(), out, s.c, s.h, s.w, ho, wo,
                                               s.padding, positions, split_size);
  });
  if (splits > 1) {
    nat_emu::launch(dim3(2), dim3(64), [&] {
      k::sum_splits(partial.data(), dw.data(), static_cast<int>(w.size()),
                    static_cast<int>(splits));
    });
  }
}

void emulate_depthwise_any(const depthwise_shape& s, const std::vector<float>& x,
                           const std::vector<float>& w, const std::vector<float>& g,
                           std::vector<float>& y, std::vector<float>& dx, std::vector<float>& dw,
                           unsigned max_grid) {
  switch (s.kernel * 10 + s.stride) {
    case 31:
      return emulate_depthwise<3, 1>(s, x, w, g, y, dx, dw, max_grid);
    case 32:
      return emulate_depthwise<3, 2>(s, x, w, g, y, dx, dw, max_grid);
    case 51:
      return emulate_depthwise<5, 1>(s, x, w, g, y, dx, dw, max_grid);
    case 52:
      return emulate_depthwise<5, 2>(s, x, w, g, y, dx, dw, max_grid);
    case 71:
      return emulate_depthwise<7, 1>(s, x, w, g, y, dx, dw, max_grid);
    case 72:
      return emulate_depthwise<7, 2>(s, x, w, g, y, dx, dw, max_grid);
  }
  FAIL("bad kernel/stride");
}

}  // namespace

TEST_CASE("emulated depthwise kernels match the CPU reference") {
  std::vector<depthwise_shape> cases;
  for (int kk : {3, 5, 7})
    for (int stride : {1, 2}) {
      cases.push_back({3, 13, 7, 7, kk, stride, kk / 2});
      cases.push_back({1, 2, 17, 20, kk, stride, kk / 2});  // 2x2 tiles at stride 1, ragged
      cases.push_back({2, 1, 6, 9, kk, stride, kk / 2 + 1});
      cases.push_back({1, 1, 9, 8, kk, stride, 0});
    }
  cases.push_back({1, 1, 91, 91, 3, 1, 1});  // 8281 positions: two weight-gradient splits
  for (const auto& s : cases) {
    CAPTURE(name(s));
    const auto x = random_vector(static_cast<std::size_t>(s.n) * s.c * s.h * s.w, 51);
    const auto w = random_vector(static_cast<std::size_t>(s.c) * s.kernel * s.kernel, 52);
    const auto g = random_vector(static_cast<std::size_t>(s.n) * s.c * s.out_h() * s.out_w(), 53);
    const auto ref = depthwise_ref(s, x, w, g);
    std::vector<float> y, dx, dw;
    emulate_depthwise_any(s, x, w, g, y, dx, dw, 3);
    CHECK(rel_error(y, ref.y) < forward_tol);
    CHECK(rel_error(dx, ref.dx) < gradient_tol);
    CHECK(rel_error(dw, ref.dw) < gradient_tol);
  }
}

TEST_CASE("emulated kernel-transform kernels match the CPU reference") {
  for (auto [big, small] : {std::pair{7, 5}, std::pair{5, 3}}) {
    const int channels = 13, kk = small * small, bb = big * big;
    CAPTURE(big);
    const auto src = random_vector(static_cast<std::size_t>(channels) * bb, 61);
    const auto m = random_vector(static_cast<std::size_t>(kk) * kk, 62);
    const auto g = random_vector(static_cast<std::size_t>(channels) * kk, 63);
    const int off = big / 2 - small / 2;
    auto at = [&](int i) { return (off + i / small) * big + off + i % small; };
    std::vector<double> want(channels * kk, 0.0), want_src(channels * bb, 0.0),
        want_m(kk * kk, 0.0);
    for (int c = 0; c < channels; ++c)
      for (int j = 0; j < kk; ++j)
        for (int i = 0; i < kk; ++i) {
          want[c * kk + j] += static_cast<double>(m[j * kk + i]) * src[c * bb + at(i)];
          want_src[c * bb + at(i)] += static_cast<double>(g[c * kk + j]) * m[j * kk + i];
          want_m[j * kk + i] += static_cast<double>(g[c * kk + j]) * src[c * bb + at(i)];
        }
    std::vector<float> dst(channels * kk, -7.f), dsrc(channels * bb, -7.f), dm(kk * kk, -7.f);
    nat_emu::launch(dim3(1), dim3(64), [&] {
      k::transform_forward(channels, big, small, src.data(), m.data(), dst.data());
    });
    nat_emu::launch(dim3(2), dim3(64), [&] {
      k::transform_backward_src(channels, big, small, m.data(), g.data(), dsrc.data());
    });
    nat_emu::launch(dim3(1), dim3(128), [&] {
      k::transform_backward_matrix(channels, big, small, src.data(), g.data(), dm.data());
    });
    CHECK(rel_error(dst, want) < forward_tol);
    CHECK(rel_error(dsrc, want_src) < gradient_tol);
    CHECK(rel_error(dm, want_m) < gradient_tol);
  }
}

TEST_CASE("emulated batch-norm kernels match the CPU reference") {
  const int n = 3, c = 5, cmax = 8, hw = 49;
  const double m = n * hw;
  const float momentum = 0.1f, eps = 1e-5f;
  auto x = random_vector(n * c * hw, 71);
  for (auto& v : x) v = 2.f * v + 0.3f;
  const auto g = random_vector(n * c * hw, 72);
  const auto gamma = random_vector(cmax, 73);
  const auto beta = random_vector(cmax, 74);
  std::vector<float> rm(cmax, 0.25f), rv(cmax, 2.f);
  std::vector<double> mean(c, 0.0), var(c, 0.0);
  for (int i = 0; i < n * c * hw; ++i) mean[(i / hw) % c] += x[i] / m;
  for (int i = 0; i < n * c * hw; ++i)
    var[(i / hw) % c] += std::pow(x[i] - mean[(i / hw) % c], 2) / m;
  std::vector<double> y(n * c * hw), dx(n * c * hw), dgamma(c, 0.0), dbeta(c, 0.0);
  for (int i = 0; i < n * c * hw; ++i) {
    const int ch = (i / hw) % c;
    const double xhat = (x[i] - mean[ch]) / std::sqrt(var[ch] + eps);
    y[i] = xhat * gamma[ch] + beta[ch];
    dbeta[ch] += g[i];
    dgamma[ch] += g[i] * xhat;
  }
  for (int i = 0; i < n * c * hw; ++i) {
    const int ch = (i / hw) % c;
    const double inv = 1.0 / std::sqrt(var[ch] + eps);
    dx[i] = gamma[ch] * inv * (g[i] - dbeta[ch] / m - (x[i] - mean[ch]) * inv * dgamma[ch] / m);
  }
  std::vector<float> gy(n * c * hw, -7.f), gdx(n * c * hw, -7.f), smean(c), sinv(c), gg(cmax, -7.f),
      gb(cmax, -7.f);
  nat_emu::launch(dim3(c), dim3(k::bn_block_threads), [&] {
    k::bn_forward_train(x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), momentum, eps,
                        gy.data(), smean.data(), sinv.data(), c, hw, n * hw);
  });
  nat_emu::launch(dim3(c), dim3(k::bn_block_threads), [&] {
    k::bn_backward(x.data(), g.data(), gamma.data(), smean.data(), sinv.data(), gdx.data(),
                   gg.data(), gb.data(), c, hw, n * hw);
  });
  CHECK(rel_error(gy, y) < forward_tol);
  CHECK(rel_error(gdx, dx) < gradient_tol);
  for (int ch = 0; ch < c; ++ch) {
    CHECK(rm[ch] == doctest::Approx(0.9 * 0.25 + 0.1 * mean[ch]).epsilon(1e-5));
    CHECK(rv[ch] == doctest::Approx(0.9 * 2.0 + 0.1 * var[ch] * m / (m - 1)).epsilon(1e-5));
    CHECK(gg[ch] == doctest::Approx(dgamma[ch]).epsilon(1e-4));
    CHECK(gb[ch] == doctest::Approx(dbeta[ch]).epsilon(1e-4));
  }
  for (int ch = c; ch < cmax; ++ch) {
    CHECK(rm[ch] == 0.25f);  // outside the prefix: untouched
    CHECK(gg[ch] == -7.f);
  }
  std::vector<float> ye(n * c * hw, -7.f);
  nat_emu::launch(dim3(2), dim3(64), [&] {
    k::bn_forward_eval(x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), eps, ye.data(), c,
                       hw, static_cast<long long>(n) * c * hw);
  });
  std::vector<double> want_e(n * c * hw);
  for (int i = 0; i < n * c * hw; ++i) {
    const int ch = (i / hw) % c;
    want_e[i] = (x[i] - static_cast<double>(rm[ch])) /
                    std::sqrt(static_cast<double>(rv[ch]) + eps) * gamma[ch] +
                beta[ch];
  }
  CHECK(rel_error(ye, want_e) < forward_tol);
}

TEST_CASE("emulator reports a barrier not reached by every thread") {
  CHECK_THROWS_AS(nat_emu::launch(dim3(1), dim3(64),
                                  [] {
                                    if (threadIdx.x < 32) __syncthreads();
                                  }),
                  std::logic_error);
}

namespace {

// Naive column-major SGEMM with cuBLAS's argument meaning; batch entries with stride_c == 0
// accumulate in order, as the launcher does.
void colmajor_gemm(const k::detail::gemm_args& g, const float* a, const float* b, float* c) {
  for (int bi = 0; bi < g.batch; ++bi) {
    const float* ab = a + bi * g.stride_a;
    const float* bb = b + bi * g.stride_b;
    float* cb = c + bi * g.stride_c;
    const bool accumulate = g.stride_c == 0 && bi > 0;
    for (int i = 0; i < g.m; ++i)
      for (int j = 0; j < g.n; ++j) {
        double sum = 0.0;
        for (int p = 0; p < g.k; ++p) {
          const float av = g.trans_a ? ab[p + i * g.lda] : ab[i + p * g.lda];
          const float bv = g.trans_b ? bb[j + p * g.ldb] : bb[p + j * g.ldb];
          sum += static_cast<double>(av) * bv;
        }
        cb[i + j * g.ldc] = static_cast<float>(sum + (accumulate ? cb[i + j * g.ldc] : 0.0));
      }
  }
}

}  // namespace

TEST_CASE("pointwise conv: the cuBLAS argument sets compute the row-major NCHW products") {
  for (const k::pointwise_shape s :
       {k::pointwise_shape{3, 13, 7, 49}, k::pointwise_shape{2, 5, 9, 6},
        k::pointwise_shape{1, 1, 1, 1}}) {
    CAPTURE(s.in_c);
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.in_c * s.hw;
    const std::size_t ny = static_cast<std::size_t>(s.n) * s.out_c * s.hw;
    const auto x = random_vector(nx, 81);
    const auto w = random_vector(static_cast<std::size_t>(s.out_c) * s.in_c, 82);
    const auto g = random_vector(ny, 83);
    std::vector<double> y(ny, 0.0), gx(nx, 0.0), gw(w.size(), 0.0);
    for (int n = 0; n < s.n; ++n)
      for (int o = 0; o < s.out_c; ++o)
        for (int i = 0; i < s.in_c; ++i)
          for (int p = 0; p < s.hw; ++p) {
            const std::size_t xi = (static_cast<std::size_t>(n) * s.in_c + i) * s.hw + p;
            const std::size_t yi = (static_cast<std::size_t>(n) * s.out_c + o) * s.hw + p;
            y[yi] += static_cast<double>(w[o * s.in_c + i]) * x[xi];
            gx[xi] += static_cast<double>(w[o * s.in_c + i]) * g[yi];
            gw[o * s.in_c + i] += static_cast<double>(g[yi]) * x[xi];
          }
    std::vector<float> got_y(ny, -7.f), got_gx(nx, -7.f), got_gw(w.size(), -7.f);
    colmajor_gemm(k::detail::pointwise_forward_gemm(s), x.data(), w.data(), got_y.data());
    colmajor_gemm(k::detail::pointwise_backward_input_gemm(s), g.data(), w.data(), got_gx.data());
    colmajor_gemm(k::detail::pointwise_backward_weight_gemm(s), x.data(), g.data(), got_gw.data());
    CHECK(rel_error(got_y, y) < forward_tol);
    CHECK(rel_error(got_gx, gx) < gradient_tol);
    CHECK(rel_error(got_gw, gw) < gradient_tol);
  }
}

TEST_CASE("oracle check: the batch-norm backward formula agrees with finite differences") {
  // The device and emulated tests trust dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)); check it here.
  const int n = 2, c = 3, hw = 5;
  const double eps = 1e-5;
  const auto xf = random_vector(n * c * hw, 91);
  const auto g = random_vector(n * c * hw, 92);
  const auto gamma = random_vector(c, 93);
  auto loss = [&](const std::vector<double>& x) {
    double l = 0.0;
    for (int ch = 0; ch < c; ++ch) {
      double mean = 0.0, var = 0.0;
      for (int b = 0; b < n; ++b)
        for (int p = 0; p < hw; ++p) mean += x[(b * c + ch) * hw + p] / (n * hw);
      for (int b = 0; b < n; ++b)
        for (int p = 0; p < hw; ++p) var += std::pow(x[(b * c + ch) * hw + p] - mean, 2) / (n * hw);
      for (int b = 0; b < n; ++b)
        for (int p = 0; p < hw; ++p) {
          const int i = (b * c + ch) * hw + p;
          l += g[i] * gamma[ch] * (x[i] - mean) / std::sqrt(var + eps);
        }
    }
    return l;
  };
  std::vector<double> x(xf.begin(), xf.end());
  // Analytic, as in the tests above.
  const double m = n * hw;
  for (int i = 0; i < n * c * hw; i += 4) {
    const int ch = (i / hw) % c;
    double mean = 0.0, var = 0.0, sdy = 0.0, sdyx = 0.0;
    for (int b = 0; b < n; ++b)
      for (int p = 0; p < hw; ++p) mean += x[(b * c + ch) * hw + p] / m;
    for (int b = 0; b < n; ++b)
      for (int p = 0; p < hw; ++p) var += std::pow(x[(b * c + ch) * hw + p] - mean, 2) / m;
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int b = 0; b < n; ++b)
      for (int p = 0; p < hw; ++p) {
        const int j = (b * c + ch) * hw + p;
        sdy += g[j];
        sdyx += g[j] * (x[j] - mean) * inv;
      }
    const double analytic = gamma[ch] * inv * (g[i] - sdy / m - (x[i] - mean) * inv * sdyx / m);
    const double h = 1e-6;
    auto xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    const double numeric = (loss(xp) - loss(xm)) / (2 * h);
    CHECK(numeric == doctest::Approx(analytic).epsilon(1e-6));
  }
}
