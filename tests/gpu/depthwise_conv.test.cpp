// Depthwise conv forward / input grad / weight grad on the GPU against naive double CPU references.
#include <doctest/doctest.h>

#include <nat/ops/cuda/depthwise_conv.hpp>
#include <vector>

#include "depthwise_reference.hpp"
#include "gpu_test_util.hpp"

using namespace nat::ops::cuda;
using namespace nat_gpu_test;

TEST_CASE("gpu depthwise_conv2d_forward matches the CPU reference") {
  NAT_REQUIRE_GPU();
  for (const auto& s : shapes()) {
    CAPTURE(name(s));
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.c * s.h * s.w;
    const std::size_t ny = static_cast<std::size_t>(s.n) * s.c * s.out_h() * s.out_w();
    const auto x = random_vector(nx, 1);
    const auto w = random_vector(static_cast<std::size_t>(s.c) * s.kernel * s.kernel, 2);
    std::vector<double> want(ny, 0.0);
    for_each_tap(s, [&](std::size_t yi, std::size_t xi, std::size_t wi) {
      want[yi] += static_cast<double>(x[xi]) * w[wi];
    });
    auto dx = upload(x);
    auto dw = upload(w);
    device_buffer<float> dy(ny);
    check(depthwise_conv2d_forward(s, dx.data(), dw.data(), dy.data(), nullptr), "forward");
    sync();
    CHECK(rel_error(dy.download(), want) < forward_tol);
  }
}

TEST_CASE("gpu depthwise_conv2d_backward_input matches the CPU reference") {
  NAT_REQUIRE_GPU();
  for (const auto& s : shapes()) {
    CAPTURE(name(s));
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.c * s.h * s.w;
    const std::size_t ny = static_cast<std::size_t>(s.n) * s.c * s.out_h() * s.out_w();
    const auto g = random_vector(ny, 3);
    const auto w = random_vector(static_cast<std::size_t>(s.c) * s.kernel * s.kernel, 4);
    std::vector<double> want(nx, 0.0);
    for_each_tap(s, [&](std::size_t yi, std::size_t xi, std::size_t wi) {
      want[xi] += static_cast<double>(g[yi]) * w[wi];
    });
    auto dg = upload(g);
    auto dw = upload(w);
    device_buffer<float> dx(random_vector(nx, 99));  // garbage: the kernel must overwrite
    check(depthwise_conv2d_backward_input(s, dg.data(), dw.data(), dx.data(), nullptr), "bwd in");
    sync();
    CHECK(rel_error(dx.download(), want) < gradient_tol);
  }
}

TEST_CASE("gpu depthwise_conv2d_backward_weight matches the CPU reference and is deterministic") {
  NAT_REQUIRE_GPU();
  for (const auto& s : shapes()) {
    CAPTURE(name(s));
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.c * s.h * s.w;
    const std::size_t ny = static_cast<std::size_t>(s.n) * s.c * s.out_h() * s.out_w();
    const std::size_t nw = static_cast<std::size_t>(s.c) * s.kernel * s.kernel;
    const auto x = random_vector(nx, 5);
    const auto g = random_vector(ny, 6);
    std::vector<double> want(nw, 0.0);
    for_each_tap(s, [&](std::size_t yi, std::size_t xi, std::size_t wi) {
      want[wi] += static_cast<double>(g[yi]) * x[xi];
    });
    auto dx = upload(x);
    auto dg = upload(g);
    device_buffer<float> dw(random_vector(nw, 98));
    const std::size_t ws_bytes = depthwise_conv2d_backward_weight_workspace(s);
    device_buffer<float> ws((ws_bytes + sizeof(float) - 1) / sizeof(float));
    check(depthwise_conv2d_backward_weight(s, dx.data(), dg.data(), dw.data(), ws.data(), nullptr),
          "bwd w");
    sync();
    const auto first = dw.download();
    CHECK(rel_error(first, want) < gradient_tol);
    check(depthwise_conv2d_backward_weight(s, dx.data(), dg.data(), dw.data(), ws.data(), nullptr),
          "bwd w again");
    sync();
    CHECK(dw.download() == first);  // bitwise: fixed reduction order, no atomics
  }
}

TEST_CASE("gpu depthwise_conv2d_backward_weight refuses a missing workspace") {
  NAT_REQUIRE_GPU();
  const depthwise_shape s{4, 2, 56, 56, 3, 1, 1};
  REQUIRE(depthwise_conv2d_backward_weight_workspace(s) > 0);
  device_buffer<float> x(4 * 2 * 56 * 56), g(4 * 2 * 56 * 56), w(2 * 9);
  CHECK(depthwise_conv2d_backward_weight(s, x.data(), g.data(), w.data(), nullptr, nullptr) ==
        status::invalid_argument);
}
