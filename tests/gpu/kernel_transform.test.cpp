// OFA kernel crop + transform (ofa_spec §2.1) on the GPU against CPU references, incl. the 7→5→3
// chain.
#include <doctest/doctest.h>

#include <nat/ops/cuda/kernel_transform.hpp>
#include <vector>

#include "gpu_test_util.hpp"

using namespace nat::ops::cuda;
using namespace nat_gpu_test;

namespace {

int src_index(int i, int big, int small) {
  const int off = big / 2 - small / 2;  // written out again on purpose: independent of detail/
  return (off + i / small) * big + off + i % small;
}

// dst[c,j] = Σ_i m[j,i] · crop(src)[c,i]
std::vector<double> ref_forward(int channels, int big, int small, const std::vector<double>& src,
                                const std::vector<double>* m) {
  const int kk = small * small;
  std::vector<double> dst(static_cast<std::size_t>(channels) * kk, 0.0);
  for (int c = 0; c < channels; ++c)
    for (int j = 0; j < kk; ++j) {
      if (m == nullptr) {
        dst[c * kk + j] = src[c * big * big + src_index(j, big, small)];
        continue;
      }
      for (int i = 0; i < kk; ++i)
        dst[c * kk + j] += (*m)[j * kk + i] * src[c * big * big + src_index(i, big, small)];
    }
  return dst;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("gpu kernel_transform forward and backward match the CPU reference") {
  NAT_REQUIRE_GPU();
  for (int channels : {1, 13, 96}) {
    for (auto [big, small] : {std::pair{7, 5}, std::pair{5, 3}, std::pair{7, 3}}) {
      for (bool with_matrix : {true, false}) {
        CAPTURE(channels);
        CAPTURE(big);
        CAPTURE(small);
        CAPTURE(with_matrix);
        const int kk = small * small;
        const int bb = big * big;
        const auto src = random_vector(static_cast<std::size_t>(channels) * bb, 10);
        const auto m = random_vector(static_cast<std::size_t>(kk) * kk, 11);
        const auto g = random_vector(static_cast<std::size_t>(channels) * kk, 12);
        const auto srcd = to_double(src);
        const auto md = to_double(m);
        auto d_src = upload(src);
        auto d_m = upload(m);
        auto d_g = upload(g);
        device_buffer<float> d_dst(static_cast<std::size_t>(channels) * kk);
        const float* mp = with_matrix ? d_m.data() : nullptr;
        check(
            kernel_transform_forward(channels, big, small, d_src.data(), mp, d_dst.data(), nullptr),
            "forward");
        sync();
        CHECK(rel_error(d_dst.download(), ref_forward(channels, big, small, srcd,
                                                      with_matrix ? &md : nullptr)) < forward_tol);

        // Backward: d_src = zero-padded Mᵀ·g, d_m[j,i] = Σ_c g[c,j]·crop(src)[c,i].
        std::vector<double> want_src(static_cast<std::size_t>(channels) * bb, 0.0);
        std::vector<double> want_m(static_cast<std::size_t>(kk) * kk, 0.0);
        for (int c = 0; c < channels; ++c)
          for (int j = 0; j < kk; ++j)
            for (int i = 0; i < kk; ++i) {
              const double gij = with_matrix ? md[j * kk + i] : (i == j ? 1.0 : 0.0);
              want_src[c * bb + src_index(i, big, small)] += g[c * kk + j] * gij;
              want_m[j * kk + i] +=
                  static_cast<double>(g[c * kk + j]) * src[c * bb + src_index(i, big, small)];
            }
        device_buffer<float> gs(random_vector(static_cast<std::size_t>(channels) * bb, 97));
        device_buffer<float> gm(random_vector(static_cast<std::size_t>(kk) * kk, 96));
        check(kernel_transform_backward(channels, big, small, d_src.data(), mp, d_g.data(),
                                        gs.data(), gm.data(), nullptr),
              "backward");
        sync();
        CHECK(rel_error(gs.download(), want_src) < gradient_tol);
        if (with_matrix) CHECK(rel_error(gm.download(), want_m) < gradient_tol);
      }
    }
  }
}

TEST_CASE("gpu kernel_transform: the OFA 7->5->3 chain and its backward") {
  NAT_REQUIRE_GPU();
  // K3 = T53(crop(T75(crop(W)))); identity matrices reduce it to the plain centre crop.
  const int channels = 13;
  const auto w = random_vector(channels * 49, 20);
  const auto m75 = random_vector(25 * 25, 21);
  const auto m53 = random_vector(9 * 9, 22);
  const auto g3 = random_vector(channels * 9, 23);
  const auto k5 = ref_forward(channels, 7, 5, to_double(w), nullptr);
  const auto md75 = to_double(m75);
  const auto md53 = to_double(m53);
  const auto t5 = ref_forward(channels, 7, 5, to_double(w), &md75);
  const auto k3 = ref_forward(channels, 5, 3, t5, &md53);

  auto dw = upload(w);
  auto d75 = upload(m75);
  auto d53 = upload(m53);
  device_buffer<float> d5(channels * 25), d3(channels * 9);
  check(kernel_transform_forward(channels, 7, 5, dw.data(), d75.data(), d5.data(), nullptr), "75");
  check(kernel_transform_forward(channels, 5, 3, d5.data(), d53.data(), d3.data(), nullptr), "53");
  sync();
  CHECK(rel_error(d3.download(), k3) < forward_tol);

  // Backward through the chain: g3 → (g5, dM53) → (gW, dM75); reference by the same rule in double.
  std::vector<double> g5(channels * 25, 0.0), dm53(81, 0.0), gw(channels * 49, 0.0), dm75(625, 0.0);
  for (int c = 0; c < channels; ++c)
    for (int j = 0; j < 9; ++j)
      for (int i = 0; i < 9; ++i) {
        g5[c * 25 + src_index(i, 5, 3)] += g3[c * 9 + j] * md53[j * 9 + i];
        dm53[j * 9 + i] += g3[c * 9 + j] * t5[c * 25 + src_index(i, 5, 3)];
      }
  for (int c = 0; c < channels; ++c)
    for (int j = 0; j < 25; ++j)
      for (int i = 0; i < 25; ++i) {
        gw[c * 49 + src_index(i, 7, 5)] += g5[c * 25 + j] * md75[j * 25 + i];
        dm75[j * 25 + i] += g5[c * 25 + j] * w[c * 49 + src_index(i, 7, 5)];
      }
  auto dg3 = upload(g3);
  device_buffer<float> dg5(channels * 25), dgw(channels * 49), ddm53(81), ddm75(625);
  check(kernel_transform_backward(channels, 5, 3, d5.data(), d53.data(), dg3.data(), dg5.data(),
                                  ddm53.data(), nullptr),
        "53 back");
  check(kernel_transform_backward(channels, 7, 5, dw.data(), d75.data(), dg5.data(), dgw.data(),
                                  ddm75.data(), nullptr),
        "75 back");
  sync();
  CHECK(rel_error(ddm53.download(), dm53) < gradient_tol);
  CHECK(rel_error(dgw.download(), gw) < gradient_tol);
  CHECK(rel_error(ddm75.download(), dm75) < gradient_tol);
  (void)k5;
}
