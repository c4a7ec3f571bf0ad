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
  const char* op = "batch_norm";
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
  if (training) {
    auto var = tensor<T>::empty({s.c});
    cpu::batch_norm_train_forward<T>(xc.data(), wc.data(), bc.data(), y.data(), mean.data(),
                                     var.data(), invstd.data(), T(eps), s);
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
  auto fn = [=, xc = xc.detach(), wc = wc.detach()](const tensor<T>& gy, auto& gx) {
    // gx may take gy's buffer when autograd hands it over (the kernel reads a channel of gy
    // before writing that channel of gx).
    tensor<T> gxt = !need_x                   ? tensor<T>()
                    : gy.owns_storage_alone() ? gy
                                              : tensor<T>::empty(xc.shape());
    auto gw = tensor<T>::empty({s.c}), gb = tensor<T>::empty({s.c});
    cpu::batch_norm_backward<T>(xc.data(), gy.data(), wc.data(), mean.data(), invstd.data(),
                                training, gxt.data(), gw.data(), gb.data(), s);
    if (need_x) gx[0] = gxt;
    if (need_w) gx[1] = gw;
    if (need_b) gx[2] = gb;
  };
  // Input slots are fixed (x, weight, bias); undefined ones simply never need a gradient.
  autograd::record<T>(op, y, {x, weight, bias}, fn);
  return y;
}

}  // namespace nat::ops
