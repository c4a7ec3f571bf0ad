// Depthwise conv forward / input grad / weight grad on the GPU against naive double CPU references.
#include <doctest/doctest.h>

#include <nat/ops/cuda/depthwise_conv.hpp>
#include <vector>

#include "gpu_test_util.hpp"

using namespace nat::ops::cuda;
using namespace nat_gpu_test;

namespace {

std::size_t x_index(const depthwise_shape& s, int n, int c, int h, int w) {
  return ((static_cast<std::size_t>(n) * s.c + c) * s.h + h) * s.w + w;
}
std::size_t y_index(const depthwise_shape& s, int n, int c, int h, int w) {
  return ((static_cast<std::size_t>(n) * s.c + c) * s.out_h() + h) * s.out_w() + w;
}

// Visits every (n, c, oh, ow, kh, kw) whose input position lies inside the image.
template <class F>
void for_each_tap(const depthwise_shape& s, F f) {
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int oh = 0; oh < s.out_h(); ++oh)
        for (int ow = 0; ow < s.out_w(); ++ow)
          for (int kh = 0; kh < s.kernel; ++kh)
            for (int kw = 0; kw < s.kernel; ++kw) {
              const int ih = oh * s.stride - s.padding + kh;
              const int iw = ow * s.stride - s.padding + kw;
              if (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w)
                f(y_index(s, n, c, oh, ow), x_index(s, n, c, ih, iw),
                  static_cast<std::size_t>(c) * s.kernel * s.kernel + kh * s.kernel + kw);
            }
}

std::vector<depthwise_shape> shapes() {
  std::vector<depthwise_shape> out;
  for (int k : {3, 5, 7})
    for (int stride : {1, 2}) {
      out.push_back({3, 13, 7, 7, k, stride, k / 2});      // the odd MBv3 tail shape
      out.push_back({2, 5, 17, 33, k, stride, k / 2});     // several tiles, H != W, ragged edges
      out.push_back({1, 3, 9, 8, k, stride, 0});           // no padding
      out.push_back({2, 4, 6, 11, k, stride, k / 2 + 1});  // more padding than "same"
    }
  out.push_back({4, 2, 56, 56, 3, 1, 1});   // N*Ho*Wo = 12544: two weight-grad splits
  out.push_back({8, 3, 40, 40, 7, 1, 3});   // 12800: two splits, k = 7
  out.push_back({16, 2, 64, 64, 5, 2, 2});  // 16384: two splits at stride 2
  return out;
}

std::string name(const depthwise_shape& s) {
  return "N" + std::to_string(s.n) + " C" + std::to_string(s.c) + " H" + std::to_string(s.h) +
         " W" + std::to_string(s.w) + " k" + std::to_string(s.kernel) + " s" +
         std::to_string(s.stride) + " p" + std::to_string(s.padding);
}

}  // namespace

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
