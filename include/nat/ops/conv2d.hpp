#pragma once
/// \file Differentiable grouped 2-D convolution over NCHW tensors (PyTorch's conv2d semantics).
#include <cstddef>
#include <string>

#include "nat/autograd/backward.hpp"
#include "nat/ops/cpu/conv2d.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

namespace detail {

template <class T>
conv2d_shape conv2d_geometry(const char* op, const tensor<T>& x, const tensor<T>& w,
                             const tensor<T>* b, std::size_t stride, std::size_t padding,
                             std::size_t groups) {
  require_rank(op, "input", x, 4);
  require_rank(op, "weight", w, 4);
  conv2d_shape g;
  g.n = x.size(0);
  g.c = x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
  g.o = w.size(0);
  g.kh = w.size(2);
  g.kw = w.size(3);
  g.stride = stride;
  g.pad = padding;
  g.groups = groups;
  const std::string shapes = " (input " + to_string(x.shape()) + ", weight " +
                             to_string(w.shape()) + ", stride " + std::to_string(stride) +
                             ", padding " + std::to_string(padding) + ", groups " +
                             std::to_string(groups) + ")";
  if (groups == 0 || stride == 0)
    throw shape_error(std::string(op) + ": stride and groups must be positive" + shapes);
  if (g.c != w.size(1) * groups)
    throw shape_error(std::string(op) + ": input has " + std::to_string(g.c) +
                      " channels, weight expects " + std::to_string(w.size(1) * groups) +
                      " (weight.size(1) * groups)" + shapes);
  if (g.o % groups != 0)
    throw shape_error(std::string(op) + ": " + std::to_string(g.o) +
                      " output channels are not divisible by groups" + shapes);
  if (g.h + 2 * padding < g.kh || g.w + 2 * padding < g.kw || g.kh == 0 || g.kw == 0)
    throw shape_error(std::string(op) + ": padded input is smaller than the kernel" + shapes);
  if (b && b->defined()) {
    require_rank(op, "bias", *b, 1);
    if (b->size(0) != g.o)
      throw shape_error(std::string(op) + ": bias has shape " + to_string(b->shape()) +
                        ", expected [" + std::to_string(g.o) + "]" + shapes);
  }
  return g;
}

template <class T>
tensor<T> conv2d_impl(const tensor<T>& x, const tensor<T>& w, const tensor<T>& b,
                      std::size_t stride, std::size_t padding, std::size_t groups) {
  const conv2d_shape g = conv2d_geometry("conv2d", x, w, &b, stride, padding, groups);
  const tensor<T> xc = x.contiguous(), wc = w.contiguous();
  const tensor<T> bc = b.defined() ? b.contiguous() : tensor<T>();
  auto y = tensor<T>::empty({g.n, g.o, g.out_h(), g.out_w()});
  cpu::conv2d_forward<T>(xc.data(), wc.data(), bc.data(), y.data(), g);
  const bool need_x = x.requires_grad(), need_w = w.requires_grad(),
             need_b = b.defined() && b.requires_grad();
  auto fn = [=, xc = xc.detach(), wc = wc.detach()](const tensor<T>& gy,
                                                    std::vector<tensor<T>>& gx) {
    if (need_x) {
      gx[0] = tensor<T>::empty(xc.shape());
      cpu::conv2d_backward_input<T>(gy.data(), wc.data(), gx[0].data(), g);
    }
    if (need_w || need_b) {
      auto gw = tensor<T>::empty(wc.shape());
      auto gb = tensor<T>::empty({g.o});
      cpu::conv2d_backward_weight<T>(xc.data(), gy.data(), gw.data(), need_b ? gb.data() : nullptr,
                                     g);
      if (need_w) gx[1] = gw;
      if (need_b) gx[2] = gb;
    }
  };
  if (b.defined())
    autograd::record<T>("conv2d", y, {x, w, b}, fn);
  else
    autograd::record<T>("conv2d", y, {x, w}, fn);
  return y;
}

}  // namespace detail

/// 2-D convolution of x [N,C,H,W] with w [O, C/groups, kh, kw], zero padding `padding` on each
/// side, the same stride along both axes; returns [N, O, Ho, Wo] (Ho = (H+2p-kh)/stride + 1).
/// 1x1 stride-1 unpadded convolutions run as one GEMM per sample (pointwise conv).
template <class T>
tensor<T> conv2d(const tensor<T>& x, const tensor<T>& w, std::size_t stride = 1,
                 std::size_t padding = 0, std::size_t groups = 1) {
  return detail::conv2d_impl(x, w, tensor<T>(), stride, padding, groups);
}

/// conv2d with a bias b [O] added to every output position (SE's 1x1 convolutions).
template <class T>
tensor<T> conv2d(const tensor<T>& x, const tensor<T>& w, const tensor<T>& b, std::size_t stride,
                 std::size_t padding, std::size_t groups) {
  return detail::conv2d_impl(x, w, b, stride, padding, groups);
}

}  // namespace nat::ops
