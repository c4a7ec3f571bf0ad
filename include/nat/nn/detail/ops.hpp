#pragma once
/// \file Differentiable primitives the elastic layers need beyond nat::ops (ofa_spec §2.8): a
/// prefix slice of a parameter, the centre-crop + kernel-transform step, BatchNorm over a channel
/// prefix with in-place running statistics, global average pooling and [N,C,1,1] → [N,C].
///
/// Local to nat::nn until nat::ops carries equivalents; each records one autograd node.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::nn::detail {

/// Leading block `w[:d0, :d1, ...]` of `w` as a contiguous tensor; the gradient is scattered into
/// the leading block of a zero tensor of w's shape (what PyTorch does for `w[:a, :b]`).
template <class T>
tensor<T> prefix(const tensor<T>& w, const std::vector<std::size_t>& lead) {
  if (lead.size() > w.rank())
    throw shape_error("nn::prefix: " + std::to_string(lead.size()) +
                      " extents for a tensor of shape " + to_string(w.shape()));
  tensor<T> v = w.detach();
  bool whole = true;
  for (std::size_t d = 0; d < lead.size(); ++d) {
    if (lead[d] > w.size(d))
      throw shape_error("nn::prefix: leading " + std::to_string(lead[d]) + " of dimension " +
                        std::to_string(d) + " exceed shape " + to_string(w.shape()));
    if (lead[d] != w.size(d)) whole = false;
    v = v.slice(d, lead[d]);
  }
  if (whole) return w;  // the whole parameter: no copy, gradient flows directly
  tensor<T> y = v.clone();
  const nat::shape full = w.shape();
  autograd::record<T>("prefix", y, {w}, [full, lead](const tensor<T>& gy, auto& gx) {
    gx[0] = tensor<T>::zeros(full);
    tensor<T> dst = gx[0];
    for (std::size_t d = 0; d < lead.size(); ++d) dst = dst.slice(d, lead[d]);
    dst.copy_from(gy);
  });
  return y;
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
/// receives the batch statistics (training mode only).
template <class T>
tensor<T> batch_norm(const tensor<T>& x, const tensor<T>& weight, const tensor<T>& bias,
                     const tensor<T>& running_mean, const tensor<T>& running_var, bool training,
                     double momentum, double eps, bool update_running = true,
                     batch_stats* stats = nullptr) {
  if (x.rank() != 4)
    throw shape_error("nn::batch_norm: expected input [N,C,H,W], got " + to_string(x.shape()));
  const std::size_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  if (weight.numel() < c || bias.numel() < c || running_mean.numel() < c || running_var.numel() < c)
    throw shape_error("nn::batch_norm: input has " + std::to_string(c) +
                      " channels, parameters have " + std::to_string(weight.numel()));
  const tensor<T> xc = x.contiguous();
  const tensor<T> w = prefix(weight, {c}), b = prefix(bias, {c});
  const T* xp = xc.data();
  auto y = tensor<T>::empty(x.shape());
  T* yp = y.data();
  std::vector<T> mean(c), inv(c);
  const std::size_t m = n * hw;
  T* rm = running_mean.data();
  T* rv = running_var.data();
  if (training && m == 0) throw shape_error("nn::batch_norm: empty batch");
  if (stats) {
    stats->mean.assign(c, 0);
    stats->var.assign(c, 0);
    stats->count = m;
  }
  nat::parallel_for_each_index(0, c, [&](std::size_t ch) {
    double mu, var;
    if (training) {
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const T* p = xp + (i * c + ch) * hw;
        for (std::size_t j = 0; j < hw; ++j) s += p[j];
      }
      mu = s / double(m);
      double q = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const T* p = xp + (i * c + ch) * hw;
        for (std::size_t j = 0; j < hw; ++j) q += (p[j] - mu) * (p[j] - mu);
      }
      var = q / double(m);
      if (stats) {
        stats->mean[ch] = mu;
        stats->var[ch] = var;
      }
      if (update_running) {
        const double unbiased = m > 1 ? var * double(m) / double(m - 1) : var;
        rm[ch] = T((1 - momentum) * rm[ch] + momentum * mu);
        rv[ch] = T((1 - momentum) * rv[ch] + momentum * unbiased);
      }
    } else {
      mu = rm[ch];
      var = rv[ch];
    }
    const T iv = T(1.0 / std::sqrt(var + eps));
    mean[ch] = T(mu);
    inv[ch] = iv;
    const T scale = w.data()[ch] * iv, shift = b.data()[ch] - T(mu) * scale;
    for (std::size_t i = 0; i < n; ++i) {
      const T* p = xp + (i * c + ch) * hw;
      T* q = yp + (i * c + ch) * hw;
      for (std::size_t j = 0; j < hw; ++j) q[j] = p[j] * scale + shift;
    }
  });
  const bool need_x = x.requires_grad();
  autograd::record<T>("batch_norm", y, {x, w, b},
                      [=, xc = xc.detach(), wd = w.detach()](const tensor<T>& gy, auto& gx) {
                        const T* g = gy.data();
                        const T* xp = xc.data();
                        auto gw = tensor<T>::empty({c}), gb = tensor<T>::empty({c});
                        tensor<T> gxx = need_x ? tensor<T>::empty(xc.shape()) : tensor<T>();
                        nat::parallel_for_each_index(0, c, [&](std::size_t ch) {
                          double sg = 0, sgx = 0;
                          for (std::size_t i = 0; i < n; ++i) {
                            const T* p = xp + (i * c + ch) * hw;
                            const T* q = g + (i * c + ch) * hw;
                            for (std::size_t j = 0; j < hw; ++j) {
                              sg += q[j];
                              sgx += q[j] * (p[j] - mean[ch]) * inv[ch];
                            }
                          }
                          gw.data()[ch] = T(sgx);
                          gb.data()[ch] = T(sg);
                          if (!need_x) return;
                          const T gamma = wd.data()[ch], iv = inv[ch];
                          T* o = gxx.data();
                          if (training) {
                            const T a = gamma * iv, mg = T(sg / double(m)),
                                    mgx = T(sgx / double(m));
                            for (std::size_t i = 0; i < n; ++i) {
                              const T* p = xp + (i * c + ch) * hw;
                              const T* q = g + (i * c + ch) * hw;
                              T* r = o + (i * c + ch) * hw;
                              for (std::size_t j = 0; j < hw; ++j)
                                r[j] = a * (q[j] - mg - (p[j] - mean[ch]) * iv * mgx);
                            }
                          } else {
                            const T a = gamma * iv;
                            for (std::size_t i = 0; i < n; ++i) {
                              const T* q = g + (i * c + ch) * hw;
                              T* r = o + (i * c + ch) * hw;
                              for (std::size_t j = 0; j < hw; ++j) r[j] = a * q[j];
                            }
                          }
                        });
                        if (need_x) gx[0] = gxx;
                        gx[1] = gw;
                        gx[2] = gb;
                      });
  return y;
}

/// Mean over H and W: [N,C,H,W] → [N,C,1,1].
template <class T>
tensor<T> global_avg_pool(const tensor<T>& x) {
  if (x.rank() != 4)
    throw shape_error("nn::global_avg_pool: expected [N,C,H,W], got " + to_string(x.shape()));
  const std::size_t nc = x.size(0) * x.size(1), hw = x.size(2) * x.size(3);
  const tensor<T> xc = x.contiguous();
  auto y = tensor<T>::empty({x.size(0), x.size(1), std::size_t(1), std::size_t(1)});
  for (std::size_t i = 0; i < nc; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < hw; ++j) s += xc.data()[i * hw + j];
    y.data()[i] = T(s / double(hw));
  }
  const nat::shape in = x.shape();
  autograd::record<T>("global_avg_pool", y, {x}, [=](const tensor<T>& gy, auto& gx) {
    gx[0] = tensor<T>::empty(in);
    const T inv = T(1) / T(hw);
    for (std::size_t i = 0; i < nc; ++i)
      for (std::size_t j = 0; j < hw; ++j) gx[0].data()[i * hw + j] = gy.data()[i] * inv;
  });
  return y;
}

/// Same data under a new shape (differentiable reshape of a contiguous tensor).
template <class T>
tensor<T> reshape(const tensor<T>& x, const nat::shape& s) {
  tensor<T> y = x.contiguous().detach().reshape(s);
  const nat::shape in = x.shape();
  autograd::record<T>("reshape", y, {x},
                      [in](const tensor<T>& gy, auto& gx) { gx[0] = gy.reshape(in); });
  return y;
}

}  // namespace nat::nn::detail
