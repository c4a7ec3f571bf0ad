// Pointwise conv (cuBLAS) forward / backward against naive CPU references.
#include <doctest/doctest.h>

#include <nat/ops/cuda/pointwise_conv.hpp>
#include <vector>

#include "gpu_test_util.hpp"

using namespace nat::ops::cuda;
using namespace nat_gpu_test;

TEST_CASE("gpu pointwise_conv2d forward, input grad and weight grad match the CPU reference") {
  NAT_REQUIRE_GPU();
  const std::vector<pointwise_shape> shapes = {
      {3, 13, 7, 49}, {1, 1, 1, 1}, {2, 16, 24, 64}, {3, 40, 13, 9}, {5, 96, 144, 196}};
  for (const auto& s : shapes) {
    CAPTURE(s.n);
    CAPTURE(s.in_c);
    CAPTURE(s.out_c);
    CAPTURE(s.hw);
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.in_c * s.hw;
    const std::size_t ny = static_cast<std::size_t>(s.n) * s.out_c * s.hw;
    const std::size_t nw = static_cast<std::size_t>(s.out_c) * s.in_c;
    const auto x = random_vector(nx, 30);
    const auto w = random_vector(nw, 31);
    const auto g = random_vector(ny, 32);
    std::vector<double> y(ny, 0.0), gx(nx, 0.0), gw(nw, 0.0);
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
    auto dx = upload(x);
    auto dw = upload(w);
    auto dg = upload(g);
    device_buffer<float> dy(random_vector(ny, 90)), dgx(random_vector(nx, 91)),
        dgw(random_vector(nw, 92));
    check(pointwise_conv2d_forward(s, dx.data(), dw.data(), dy.data(), nullptr), "forward");
    check(pointwise_conv2d_backward_input(s, dg.data(), dw.data(), dgx.data(), nullptr), "bwd in");
    check(pointwise_conv2d_backward_weight(s, dx.data(), dg.data(), dgw.data(), nullptr), "bwd w");
    sync();
    CHECK(rel_error(dy.download(), y) < forward_tol);
    CHECK(rel_error(dgx.download(), gx) < gradient_tol);
    CHECK(rel_error(dgw.download(), gw) < gradient_tol);
  }
}
