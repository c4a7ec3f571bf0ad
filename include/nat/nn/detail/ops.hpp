#pragma once
/// \file Differentiable primitives the elastic layers need (ofa_spec §2.8): a prefix slice of a
/// parameter, the centre-crop + kernel-transform step, BatchNorm over a channel prefix with
/// in-place running statistics, global average pooling and [N,C,1,1] → [N,C].
///
/// Thin adapters over nat::ops where it carries the op (slice, batch_norm, global_avg_pool,
/// reshape), so there is one kernel per op; crop_transform is local.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/ops/batch_norm.hpp"
#include "nat/ops/pool.hpp"
#include "nat/ops/view.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::nn::detail {

/// Leading block `w[:d0, :d1, ...]` of `w` as a contiguous tensor; the gradient is scattered into
/// the leading block of a zero tensor of w's shape (what PyTorch does for `w[:a, :b]`).
template <class T>
tensor<T> prefix(const tensor<T>& w, const std::vector<std::size_t>& lead) {
  if (lead.size() > w.rank())
    throw shape_error("nn::prefix: " + std::to_string(lead.size()) +
                      " extents for a tensor of shape " + to_string(w.shape()));
  bool whole = true;
  for (std::size_t d = 0; d < lead.size(); ++d) {
    if (lead[d] > w.size(d))
      throw shape_error("nn::prefix: leading " + std::to_string(lead[d]) + " of dimension " +
                        std::to_string(d) + " exceed shape " + to_string(w.shape()));
    if (lead[d] != w.size(d)) whole = false;
  }
  if (whole) return w;  // the whole parameter: no copy, gradient flows directly
  return ops::slice(w, lead);
}

/// One step of OFA's kernel chain (ofa_spec §2.1): the centre s×s of each channel of
/// `s_in` [C,1,k,k], flattened row-major to v (s² entries) and replaced by `M·v` (`M` [s²,s²]; an
/// undefined M crops only). Returns [C,1,s,s]; gradients go to s_in's centre and to M.
template <class T>
tensor<T> crop_transform(const tensor<T>& s_in, const tensor<T>& m, std::size_t s) {
  if (s_in.rank() != 4 || s_in.size(1) != 1 || s_in.size(2) != s_in.size(3) || s > s_in.size(2) ||
      (s_in.size(2) - s) % 2 != 0)
    throw shape_error("nn::crop_transform: expected [C,1,k,k] with odd k >= " + std::to_string(s) +
                      ", got " + to_string(s_in.shape()));
  const std::size_t s2 = s * s;
  if (m.defined() && (m.rank() != 2 || m.size(0) != s2 || m.size(1) != s2))
    throw shape_error("nn::crop_transform: transform must be [" + std::to_string(s2) + "," +
                      std::to_string(s2) + "], got " + to_string(m.shape()));
  const std::size_t c = s_in.size(0), k = s_in.size(2), off = (k - s) / 2;
  const tensor<T> xc = s_in.contiguous();
  const tensor<T> mc = m.defined() ? m.contiguous() : tensor<T>();
  // v[c, i] = centre crop, row-major
  std::vector<T> v(c * s2);
  for (std::size_t ch = 0; ch < c; ++ch)
    for (std::size_t i = 0; i < s; ++i)
      for (std::size_t j = 0; j < s; ++j)
        v[ch * s2 + i * s + j] = xc.data()[ch * k * k + (i + off) * k + (j + off)];
  auto y = tensor<T>::empty({c, std::size_t(1), s, s});
  T* yp = y.data();
  if (!mc.defined()) {
    std::copy(v.begin(), v.end(), yp);
  } else {
    const T* mp = mc.data();
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t a = 0; a < s2; ++a) {
        T acc = 0;
        for (std::size_t b = 0; b < s2; ++b) acc += mp[a * s2 + b] * v[ch * s2 + b];
        yp[ch * s2 + a] = acc;
      }
  }
  const bool has_m = mc.defined();
  const nat::shape in_shape = s_in.shape();
  auto fn = [=, mc = has_m ? mc.detach() : tensor<T>(), v = std::move(v)](const tensor<T>& gy,
                                                                          auto& gx) {
    const T* g = gy.data();
    std::vector<T> gv(c * s2);
    if (has_m) {
      const T* mp = mc.data();
      // gv_b = Σ_a g_a M[a,b];  gM[a,b] = Σ_c g[c,a] v[c,b]
      for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t b = 0; b < s2; ++b) {
          T acc = 0;
          for (std::size_t a = 0; a < s2; ++a) acc += g[ch * s2 + a] * mp[a * s2 + b];
          gv[ch * s2 + b] = acc;
        }
      auto gm = tensor<T>::zeros({s2, s2});
      T* gmp = gm.data();
      for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t a = 0; a < s2; ++a) {
          const T ga = g[ch * s2 + a];
          for (std::size_t b = 0; b < s2; ++b) gmp[a * s2 + b] += ga * v[ch * s2 + b];
        }
      gx[1] = gm;
    } else {
      std::copy(g, g + c * s2, gv.begin());
    }
    auto gin = tensor<T>::zeros(in_shape);
    T* gp = gin.data();
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t i = 0; i < s; ++i)
        for (std::size_t j = 0; j < s; ++j)
          gp[ch * k * k + (i + off) * k + (j + off)] = gv[ch * s2 + i * s + j];
    gx[0] = gin;
  };
  if (has_m)
    autograd::record<T>("crop_transform", y, {s_in, m}, fn);
  else
    autograd::record<T>("crop_transform", y, {s_in}, fn);
  return y;
}

/// Per-channel batch statistics of one batch: mean and biased variance (for BN recalibration).
struct batch_stats {
  std::vector<double> mean, var;
  std::size_t count = 0;  ///< N·H·W
};

/// BatchNorm2d on x [N,C,H,W] with the leading C entries of weight/bias/running_* (the vectors may
/// be longer: elastic BN, ofa_spec §2.3). Training: normalise with batch statistics (biased
/// variance) and, when `update_running`, update running_mean/var[:C] in place with PyTorch's EMA
/// (momentum, unbiased variance). Eval: normalise with running_*[:C]. `stats`, when given,
/// receives the batch statistics (training mode only). The arithmetic is nat::ops::batch_norm's.
template <class T>
tensor<T> batch_norm(const tensor<T>& x, const tensor<T>& weight, const tensor<T>& bias,
                     const tensor<T>& running_mean, const tensor<T>& running_var, bool training,
                     double momentum, double eps, bool update_running = true,
                     batch_stats* stats = nullptr) {
  if (x.rank() != 4)
    throw shape_error("nn::batch_norm: expected input [N,C,H,W], got " + to_string(x.shape()));
  const std::size_t c = x.size(1);
  if (weight.numel() < c || bias.numel() < c || running_mean.numel() < c || running_var.numel() < c)
    throw shape_error("nn::batch_norm: input has " + std::to_string(c) +
                      " channels, parameters have " + std::to_string(weight.numel()));
  const bool use_running = !training || update_running;
  ops::batch_norm_statistics<T> batch;
  tensor<T> y = ops::batch_norm(x, prefix(weight, {c}), prefix(bias, {c}),
                                use_running ? running_mean.slice(0, c) : tensor<T>(),
                                use_running ? running_var.slice(0, c) : tensor<T>(), training,
                                momentum, eps, training && stats ? &batch : nullptr);
  if (stats) {
    stats->mean.assign(c, 0);
    stats->var.assign(c, 0);
    stats->count = x.size(0) * x.size(2) * x.size(3);
    if (training)
      for (std::size_t ch = 0; ch < c; ++ch) {
        stats->mean[ch] = double(batch.mean.data()[ch]);
        stats->var[ch] = double(batch.var.data()[ch]);
      }
  }
  return y;
}

/// Mean over H and W: [N,C,H,W] → [N,C,1,1] (nat::ops::global_avg_pool).
template <class T>
tensor<T> global_avg_pool(const tensor<T>& x) {
  return ops::global_avg_pool(x);
}

/// Same data under a new shape (nat::ops::reshape).
template <class T>
tensor<T> reshape(const tensor<T>& x, const nat::shape& s) {
  return ops::reshape(x, s);
}

}  // namespace nat::nn::detail
