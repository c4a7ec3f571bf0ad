#pragma once
/// \file Differentiable depthwise 2-D convolution (groups == channels), the elastic-kernel layer of
/// the OFA supernet (ofa_spec §2.1); dispatches to the vectorised kernels of ops/cpu/depthwise.hpp.
#include <cstddef>
#include <string>

#include "nat/autograd/backward.hpp"
#include "nat/ops/cpu/depthwise.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

/// Depthwise convolution of x [N,C,H,W] with w [C,1,k,k] (square kernel), zero padding `padding`
/// on each side (k/2 for "same"), the same stride along both axes; returns [N,C,Ho,Wo].
template <class T>
tensor<T> depthwise_conv2d(const tensor<T>& x, const tensor<T>& w, std::size_t stride = 1,
                           std::size_t padding = 0) {
  const char* op = "depthwise_conv2d";
  detail::require_rank(op, "input", x, 4);
  detail::require_rank(op, "weight", w, 4);
  const std::string shapes =
      " (input " + to_string(x.shape()) + ", weight " + to_string(w.shape()) + ")";
  if (w.size(0) != x.size(1))
    throw shape_error(std::string(op) + ": input has " + std::to_string(x.size(1)) +
                      " channels, weight has " + std::to_string(w.size(0)) + shapes);
  if (w.size(1) != 1 || w.size(2) != w.size(3))
    throw shape_error(std::string(op) + ": expected weight [C,1,k,k]" + shapes);
  depthwise_shape s;
  s.n = x.size(0);
  s.c = x.size(1);
  s.h = x.size(2);
  s.w = x.size(3);
  s.k = w.size(2);
  s.stride = stride;
  s.pad = padding;
  s.validate(op);
  const tensor<T> xc = x.contiguous(), wc = w.contiguous();
  auto y = tensor<T>::empty({s.n, s.c, s.out_h(), s.out_w()});
  cpu::depthwise_forward<T>(xc.data(), wc.data(), y.data(), s);
  const bool need_x = x.requires_grad(), need_w = w.requires_grad();
  autograd::record<T>("depthwise_conv2d", y, {x, w},
                      [=, xc = xc.detach(), wc = wc.detach()](const tensor<T>& gy, auto& gx) {
                        if (need_x && need_w) {  // the fused kernel reads and transposes gy once
                          gx[0] = tensor<T>::empty(xc.shape());
                          gx[1] = tensor<T>::empty(wc.shape());
                          cpu::depthwise_backward<T>(xc.data(), gy.data(), wc.data(), gx[0].data(),
                                                     gx[1].data(), s);
                        } else if (need_x) {
                          gx[0] = tensor<T>::empty(xc.shape());
                          cpu::depthwise_backward_input<T>(gy.data(), wc.data(), gx[0].data(), s);
                        } else if (need_w) {
                          gx[1] = tensor<T>::empty(wc.shape());
                          cpu::depthwise_backward_weight<T>(xc.data(), gy.data(), gx[1].data(), s);
                        }
                      });
  return y;
}

}  // namespace nat::ops
