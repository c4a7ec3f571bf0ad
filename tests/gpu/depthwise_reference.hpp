#pragma once
// Naive depthwise-conv oracle pieces shared by the device tests and the emulated-kernel tests.
#include <nat/ops/cuda/depthwise_conv.hpp>
#include <string>
#include <vector>

namespace nat_gpu_test {

using nat::ops::cuda::depthwise_shape;

inline std::size_t x_index(const depthwise_shape& s, int n, int c, int h, int w) {
  return ((static_cast<std::size_t>(n) * s.c + c) * s.h + h) * s.w + w;
}
inline std::size_t y_index(const depthwise_shape& s, int n, int c, int h, int w) {
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

inline std::vector<depthwise_shape> shapes() {
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

inline std::string name(const depthwise_shape& s) {
  return "N" + std::to_string(s.n) + " C" + std::to_string(s.c) + " H" + std::to_string(s.h) +
         " W" + std::to_string(s.w) + " k" + std::to_string(s.kernel) + " s" +
         std::to_string(s.stride) + " p" + std::to_string(s.padding);
}

/// Naive forward, input gradient and weight gradient, accumulated in double.
struct depthwise_reference {
  std::vector<double> y, dx, dw;
};

/// All three results for input x, weights w and output gradient g.
inline depthwise_reference depthwise_ref(const depthwise_shape& s, const std::vector<float>& x,
                                         const std::vector<float>& w, const std::vector<float>& g) {
  depthwise_reference r;
  r.y.assign(static_cast<std::size_t>(s.n) * s.c * s.out_h() * s.out_w(), 0.0);
  r.dx.assign(x.size(), 0.0);
  r.dw.assign(w.size(), 0.0);
  for_each_tap(s, [&](std::size_t yi, std::size_t xi, std::size_t wi) {
    r.y[yi] += static_cast<double>(x[xi]) * w[wi];
    r.dx[xi] += static_cast<double>(g[yi]) * w[wi];
    r.dw[wi] += static_cast<double>(g[yi]) * x[xi];
  });
  return r;
}

}  // namespace nat_gpu_test
