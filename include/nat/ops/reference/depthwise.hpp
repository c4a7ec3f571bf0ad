#pragma once
/// \file Naive depthwise 2-D convolution (forward, input gradient, weight gradient): the test
/// oracle for the optimised kernels in nat/ops/cpu/depthwise.hpp.
///
/// This is the per-channel convolution of the elastic depthwise layer of the Once-for-All supernet
/// (OFA spec §2.1, §2.8): groups == channels, weight [C,1,k,k], zero padding, no bias. The loops
/// follow the definition literally and accumulate in double so that the optimised float kernels
/// can be compared against something more accurate than themselves.
#include <cstddef>
#include <sstream>
#include <string>

#include "nat/core/error.hpp"

namespace nat::ops {

/// Geometry of a depthwise convolution over NCHW tensors: input [n,c,h,w], weight [c,1,k,k],
/// output [n,c,out_h(),out_w()], the same stride and zero padding along both spatial axes.
struct depthwise_shape {
  std::size_t n = 0;       ///< batch size (0 is allowed: nothing to compute)
  std::size_t c = 0;       ///< channels (input == output == groups)
  std::size_t h = 0;       ///< input height
  std::size_t w = 0;       ///< input width
  std::size_t k = 0;       ///< square kernel size
  std::size_t stride = 1;  ///< stride along both axes
  std::size_t pad = 0;     ///< zero padding on each of the four sides

  /// Output height, floor((h + 2 pad - k) / stride) + 1 (the PyTorch rule).
  std::size_t out_h() const { return (h + 2 * pad - k) / stride + 1; }
  /// Output width, floor((w + 2 pad - k) / stride) + 1.
  std::size_t out_w() const { return (w + 2 * pad - k) / stride + 1; }

  /// Throws shape_error, naming `op` and the shape, when the geometry cannot be convolved.
  void validate(const char* op) const {
    const char* why = nullptr;
    if (c == 0 || h == 0 || w == 0)
      why = "channels, height and width must be positive";
    else if (k == 0)
      why = "kernel size must be positive";
    else if (stride == 0)
      why = "stride must be positive";
    else if (h + 2 * pad < k || w + 2 * pad < k)
      why = "padded input is smaller than the kernel";
    if (why == nullptr) return;
    std::ostringstream msg;
    msg << op << ": " << why << " (input [" << n << "," << c << "," << h << "," << w
        << "], weight [" << c << ",1," << k << "," << k << "], stride " << stride << ", pad " << pad
        << ")";
    throw shape_error(msg.str());
  }
};

namespace reference {

/// y[n,c,oh,ow] = sum_{i,j} x[n,c,oh*s-p+i, ow*s-p+j] * w[c,0,i,j] with zeros outside x.
template <class T>
void depthwise_forward(const T* x, const T* w, T* y, const depthwise_shape& s) {
  s.validate("reference::depthwise_forward");
  const std::size_t oh_n = s.out_h(), ow_n = s.out_w();
  for (std::size_t n = 0; n < s.n; ++n)
    for (std::size_t c = 0; c < s.c; ++c) {
      const T* xp = x + (n * s.c + c) * s.h * s.w;
      const T* wp = w + c * s.k * s.k;
      T* yp = y + (n * s.c + c) * oh_n * ow_n;
      for (std::size_t oh = 0; oh < oh_n; ++oh)
        for (std::size_t ow = 0; ow < ow_n; ++ow) {
          double acc = 0;
          for (std::size_t i = 0; i < s.k; ++i)
            for (std::size_t j = 0; j < s.k; ++j) {
              // Unsigned wrap-around turns "above/left of the input" into "too large".
              const std::size_t ih = oh * s.stride + i - s.pad, iw = ow * s.stride + j - s.pad;
              if (oh * s.stride + i < s.pad || ow * s.stride + j < s.pad) continue;
              if (ih >= s.h || iw >= s.w) continue;
              acc += double(xp[ih * s.w + iw]) * double(wp[i * s.k + j]);
            }
          yp[oh * ow_n + ow] = T(acc);
        }
    }
}

/// dx = d(sum dy*y)/dx: every input pixel collects dy * w from the outputs whose window covers it.
/// Overwrites dx.
template <class T>
void depthwise_backward_input(const T* dy, const T* w, T* dx, const depthwise_shape& s) {
  s.validate("reference::depthwise_backward_input");
  const std::size_t oh_n = s.out_h(), ow_n = s.out_w();
  for (std::size_t n = 0; n < s.n; ++n)
    for (std::size_t c = 0; c < s.c; ++c) {
      const T* dyp = dy + (n * s.c + c) * oh_n * ow_n;
      const T* wp = w + c * s.k * s.k;
      T* dxp = dx + (n * s.c + c) * s.h * s.w;
      // Gather form (one accumulator per input pixel) so the sum is taken in double.
      for (std::size_t ih = 0; ih < s.h; ++ih)
        for (std::size_t iw = 0; iw < s.w; ++iw) {
          double acc = 0;
          for (std::size_t i = 0; i < s.k; ++i) {
            const std::size_t th = ih + s.pad;  // = oh*stride + i
            if (th < i || (th - i) % s.stride != 0) continue;
            const std::size_t oh = (th - i) / s.stride;
            if (oh >= oh_n) continue;
            for (std::size_t j = 0; j < s.k; ++j) {
              const std::size_t tw = iw + s.pad;
              if (tw < j || (tw - j) % s.stride != 0) continue;
              const std::size_t ow = (tw - j) / s.stride;
              if (ow >= ow_n) continue;
              acc += double(dyp[oh * ow_n + ow]) * double(wp[i * s.k + j]);
            }
          }
          dxp[ih * s.w + iw] = T(acc);
        }
    }
}

/// dw[c,0,i,j] = sum_{n,oh,ow} x[n,c,oh*s-p+i, ow*s-p+j] * dy[n,c,oh,ow]. Overwrites dw.
template <class T>
void depthwise_backward_weight(const T* x, const T* dy, T* dw, const depthwise_shape& s) {
  s.validate("reference::depthwise_backward_weight");
  const std::size_t oh_n = s.out_h(), ow_n = s.out_w();
  for (std::size_t c = 0; c < s.c; ++c)
    for (std::size_t i = 0; i < s.k; ++i)
      for (std::size_t j = 0; j < s.k; ++j) {
        double acc = 0;
        for (std::size_t n = 0; n < s.n; ++n) {
          const T* xp = x + (n * s.c + c) * s.h * s.w;
          const T* dyp = dy + (n * s.c + c) * oh_n * ow_n;
          for (std::size_t oh = 0; oh < oh_n; ++oh) {
            if (oh * s.stride + i < s.pad) continue;
            const std::size_t ih = oh * s.stride + i - s.pad;
            if (ih >= s.h) continue;
            for (std::size_t ow = 0; ow < ow_n; ++ow) {
              if (ow * s.stride + j < s.pad) continue;
              const std::size_t iw = ow * s.stride + j - s.pad;
              if (iw >= s.w) continue;
              acc += double(xp[ih * s.w + iw]) * double(dyp[oh * ow_n + ow]);
            }
          }
        }
        dw[(c * s.k + i) * s.k + j] = T(acc);
      }
}

}  // namespace reference
}  // namespace nat::ops
