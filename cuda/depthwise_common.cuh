#pragma once
// Shared by the three depthwise .cu files: argument checks and the (kernel, stride) dispatch onto
// the template instantiations.
#include <nat/ops/cuda/depthwise_conv.hpp>

#include "common.cuh"

namespace nat::ops::cuda::detail {

/// Checks a depthwise geometry; status::ok or invalid_argument with a message naming `fn`.
inline status validate(const depthwise_shape& s) {
  if (s.kernel != 3 && s.kernel != 5 && s.kernel != 7) return invalid("kernel must be 3, 5 or 7");
  if (s.stride != 1 && s.stride != 2) return invalid("stride must be 1 or 2");
  if (s.n < 0 || s.c < 0 || s.h < 0 || s.w < 0 || s.padding < 0)
    return invalid("negative size or padding");
  if (s.n * s.c * s.h * s.w > 0 && (s.out_h() <= 0 || s.out_w() <= 0))
    return invalid("kernel larger than the padded input");
  return status::ok;
}

/// True when there is nothing to compute.
inline bool empty(const depthwise_shape& s) { return s.n == 0 || s.c == 0 || s.h == 0 || s.w == 0; }

/// Calls f.template operator()<K, S>() for the runtime kernel size and stride (validated before);
/// F is a namespace-scope functor (C++17 has no template lambdas).
template <class F>
status dispatch_kernel_stride(int kernel, int stride, const F& f) {
  switch (kernel * 10 + stride) {
    case 31:
      return f.template operator()<3, 1>();
    case 32:
      return f.template operator()<3, 2>();
    case 51:
      return f.template operator()<5, 1>();
    case 52:
      return f.template operator()<5, 2>();
    case 71:
      return f.template operator()<7, 1>();
    case 72:
      return f.template operator()<7, 2>();
    default:
      return invalid("unsupported kernel/stride");
  }
}

}  // namespace nat::ops::cuda::detail
