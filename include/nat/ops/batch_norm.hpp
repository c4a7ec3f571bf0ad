#pragma once
/// \file Differentiable batch normalisation over NCHW (or [N, C]) inputs with PyTorch's
/// conventions, including OFA's channel-prefix use (ofa_spec §2.3): the parameter and running-stat
/// tensors may be prefix views (tensor::slice) of larger buffers, and the running statistics are
/// updated in place through those views.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/ops/activation.hpp"
#include "nat/ops/cpu/batch_norm.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

/// Batch statistics of one training-mode batch norm (BN recalibration reads them): per-channel
/// mean and biased variance, [C] each.
template <class T>
struct batch_norm_statistics {
  tensor<T> mean, var;
};

namespace detail {

// The batch norm, optionally followed by an activation in the same passes (training only).
template <class Act, class T>
tensor<T> batch_norm(const char* op, const tensor<T>& x, const tensor<T>& weight,
                     const tensor<T>& bias, const tensor<T>& running_mean,
                     const tensor<T>& running_var, bool training, double momentum, double eps,
                     batch_norm_statistics<T>* batch) {
  if (!x.defined() || (x.rank() != 4 && x.rank() != 2))
    throw shape_error(std::string(op) + ": expected input [N,C,H,W] or [N,C], got shape " +
                      to_string(x.shape()));
  batch_norm_shape s;
  s.n = x.size(0);
  s.c = x.size(1);
  s.hw = x.rank() == 4 ? x.size(2) * x.size(3) : 1;
  auto check_vec = [&](const char* name, const tensor<T>& v) {
    if (!v.defined()) return;
    if (v.rank() != 1 || v.size(0) != s.c)
      throw shape_error(std::string(op) + ": input " + to_string(x.shape()) + " has " +
                        std::to_string(s.c) + " channels, " + name + " has shape " +
                        to_string(v.shape()));
  };
  check_vec("weight", weight);
  check_vec("bias", bias);
  check_vec("running_mean", running_mean);
  check_vec("running_var", running_var);
  if (running_mean.defined() != running_var.defined())
    throw shape_error(std::string(op) + ": running_mean and running_var must both be given");
  if (!training && !running_mean.defined())
    throw shape_error(std::string(op) + ": evaluation mode needs running statistics");
  // One value per channel has no unbiased variance for the running update; without running
  // statistics (BN recalibration) it is a valid, if degenerate, batch.
  if (training && (s.count() == 0 || (s.count() == 1 && running_mean.defined())))
    throw shape_error(std::string(op) + ": training needs more than one value per channel, got " +
                      "input " + to_string(x.shape()));

  const tensor<T> xc = x.contiguous();
  const tensor<T> wc = weight.defined() ? weight.contiguous() : tensor<T>();
  const tensor<T> bc = bias.defined() ? bias.contiguous() : tensor<T>();
  auto y = tensor<T>::empty(x.shape());
  auto mean = tensor<T>::empty({s.c}), invstd = tensor<T>::empty({s.c});
  constexpr bool fused = !Act::is_identity;
  // The affine map the fused output was computed with; its backward recomputes z from x.
  tensor<T> scale, shift;
  if (fused) {
    scale = tensor<T>::empty({s.c});
    shift = tensor<T>::empty({s.c});
  }
  if (training) {
    auto var = tensor<T>::empty({s.c});
    cpu::batch_norm_train_forward<T, Act>(xc.data(), wc.data(), bc.data(), y.data(), mean.data(),
                                          var.data(), invstd.data(), T(eps), s, scale.data(),
                                          shift.data());
    if (batch) {
      batch->mean = mean;
      batch->var = var;
    }
    if (running_mean.defined()) {
      // In place through the (possibly prefix) views: the supernet's buffers see the update.
      const double unbias = double(s.count()) / double(s.count() - 1);
      T* rm = running_mean.data();
      T* rv = running_var.data();
      const std::size_t sm = running_mean.strides()[0], sv = running_var.strides()[0];
      for (std::size_t c = 0; c < s.c; ++c) {
        rm[c * sm] = T((1 - momentum) * rm[c * sm] + momentum * mean.data()[c]);
        rv[c * sv] = T((1 - momentum) * rv[c * sv] + momentum * var.data()[c] * unbias);
      }
    }
  } else {
    if (fused) throw config_error(std::string(op) + ": fused activations are for training only");
    const T* rm = running_mean.data();
    const T* rv = running_var.data();
    const std::size_t sm = running_mean.strides()[0], sv = running_var.strides()[0];
    for (std::size_t c = 0; c < s.c; ++c) {
      mean.data()[c] = rm[c * sm];
      invstd.data()[c] = T(1.0 / std::sqrt(double(rv[c * sv]) + eps));
    }
    cpu::batch_norm_apply<T>(xc.data(), wc.data(), bc.data(), mean.data(), invstd.data(), y.data(),
                             s);
  }
  const bool need_x = x.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
             need_b = bias.defined() && bias.requires_grad();
  auto fn = [=, xc = xc.detach(), wc = wc.detach(), scale = scale, shift = shift](
                const tensor<T>& gy, auto& gx) {
    // gx may take gy's buffer when autograd hands it over (the kernel reads a channel of gy
    // before writing that channel of gx).
    tensor<T> gxt = !need_x                   ? tensor<T>()
                    : gy.owns_storage_alone() ? gy
                                              : tensor<T>::empty(xc.shape());
    auto gw = tensor<T>::empty({s.c}), gb = tensor<T>::empty({s.c});
    cpu::batch_norm_backward<T, Act>(xc.data(), gy.data(), wc.data(), mean.data(), invstd.data(),
                                     training, gxt.data(), gw.data(), gb.data(), s, scale.data(),
                                     shift.data());
    if (need_x) gx[0] = gxt;
    if (need_w) gx[1] = gw;
    if (need_b) gx[2] = gb;
  };
  // Input slots are fixed (x, weight, bias); undefined ones simply never need a gradient.
  autograd::record<T>(op, y, {x, weight, bias}, fn);
  return y;
}

}  // namespace detail

/// Batch norm of x [N,C,H,W] or [N,C].
///
/// training: normalise with the batch mean and biased variance; when running_mean/running_var are
/// defined, update them in place: r ← (1−momentum)·r + momentum·batch (running_var with the
/// unbiased variance, count/(count−1)). Not training: normalise with the running statistics.
/// weight/bias [C] may be undefined (no affine transform). Gradients flow to x, weight, bias.
/// `batch`, when given in training mode, receives the batch mean and biased variance.
template <class T>
tensor<T> batch_norm(const tensor<T>& x, const tensor<T>& weight, const tensor<T>& bias,
                     const tensor<T>& running_mean, const tensor<T>& running_var, bool training,
                     double momentum = 0.1, double eps = 1e-5,
                     batch_norm_statistics<T>* batch = nullptr) {
  return detail::batch_norm<cpu::detail::bn_identity>("batch_norm", x, weight, bias, running_mean,
                                                      running_var, training, momentum, eps, batch);
}

/// The activation batch_norm_act applies.
enum class bn_activation { none, relu, relu6, hswish };

/// act(batch_norm(x, ...)), the pair every conv of a MobileNetV3 ends with. In training the two
/// run as one op: the activation is applied as the normalised value is written, and the backward
/// recomputes the pre-activation value from x instead of keeping it, so the pair reads and writes
/// the activation tensor two times fewer in the forward and three in the backward, and holds one
/// tensor less for the backward (docs/performance/elastic.md). Same results as the separate ops
/// (the activation's derivative at its kinks included) up to rounding; evaluation runs them apart.
template <class T>
tensor<T> batch_norm_act(const tensor<T>& x, const tensor<T>& weight, const tensor<T>& bias,
                         const tensor<T>& running_mean, const tensor<T>& running_var, bool training,
                         bn_activation act, double momentum = 0.1, double eps = 1e-5) {
  if (!training || act == bn_activation::none) {
    auto y = batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps);
    switch (act) {
      case bn_activation::relu:
        return relu(y);
      case bn_activation::relu6:
        return relu6(y);
      case bn_activation::hswish:
        return hswish(y);
      default:
        return y;
    }
  }
  const char* op = "batch_norm_act";
  batch_norm_statistics<T>* const none = nullptr;
  switch (act) {
    case bn_activation::relu:
      return detail::batch_norm<cpu::detail::bn_relu>(op, x, weight, bias, running_mean,
                                                      running_var, true, momentum, eps, none);
    case bn_activation::relu6:
      return detail::batch_norm<cpu::detail::bn_relu6>(op, x, weight, bias, running_mean,
                                                       running_var, true, momentum, eps, none);
    default:
      return detail::batch_norm<cpu::detail::bn_hswish>(op, x, weight, bias, running_mean,
                                                        running_var, true, momentum, eps, none);
  }
}

}  // namespace nat::ops
