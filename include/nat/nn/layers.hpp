#pragma once
/// \file The MobileNetV3 building blocks, usable static or elastic: BatchNorm, conv(+BN+act),
/// squeeze-and-excite, MBConv and the residual wrapper.
///
/// Every layer owns its largest parameters and runs on their leading block (OFA's dynamic layers,
/// ofa_spec §2): a static layer is the case where the active sizes equal the allocated ones, so
/// the supernet and an extracted subnet share one implementation and one forward. They live
/// together in one header because they only make sense as a family (an MBConv is three convs and
/// an SE). `elastic_names` selects OFA's dynamic state-dict paths (`conv.conv.weight`,
/// `bn.bn.weight`) instead of the static ones (`conv.weight`, `bn.weight`), ofa_spec §6.
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/nn/activation.hpp"
#include "nat/nn/detail/ops.hpp"
#include "nat/nn/module.hpp"
#include "nat/ops/activation.hpp"
#include "nat/ops/arith.hpp"
#include "nat/ops/batch_norm.hpp"
#include "nat/ops/conv2d.hpp"
#include "nat/ops/depthwise_conv2d.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::nn {

namespace detail {
/// OFA's width rounding (same as nat::elastic::make_divisible; nn must not depend on elastic).
inline int round_channels(double v, int divisor = 8) {
  int n = static_cast<int>(std::floor((v + divisor / 2.0) / divisor)) * divisor;
  if (n < divisor) n = divisor;
  if (n < 0.9 * v) n += divisor;
  return n;
}
/// Python round (half to even) for non-negative values.
inline int py_round(double v) {
  const double f = std::floor(v), d = v - f;
  if (d != 0.5) return static_cast<int>(d > 0.5 ? f + 1 : f);
  return static_cast<int>(static_cast<long long>(f) % 2 == 0 ? f : f + 1);
}
/// Kaiming-normal (fan_out) init as OFA's `init_model` does for convs.
template <class T>
tensor<T> kaiming_fan_out(const nat::shape& s, nat::rng& g) {
  const double fan_out = double(s[0]) * double(s[2]) * double(s[3]);
  return tensor<T>::randn(s, g, T(0), T(std::sqrt(2.0 / fan_out)));
}
}  // namespace detail

/// Applies `a` (identity for none).
template <class T>
tensor<T> activate(const tensor<T>& x, activation a) {
  switch (a) {
    case activation::relu:
      return ops::relu(x);
    case activation::hswish:
      return ops::hswish(x);
    default:
      return x;
  }
}

/// Accumulates per-batch BN statistics during recalibration (ofa_spec §5): batch-size-weighted
/// means of the batch means and of the biased batch variances.
struct bn_recalibration {
  std::vector<double> mean_sum, var_sum;
  double weight = 0;
};

/// BatchNorm2d over a channel prefix of its `max_channels` entries (PyTorch defaults: weight 1,
/// bias 0, running mean 0, running var 1).
template <class T>
class batch_norm2d : public basic_module<T> {
 public:
  tensor<T> weight, bias, running_mean, running_var;

  batch_norm2d(std::size_t max_channels, double momentum, double eps)
      : weight(tensor<T>::ones({max_channels})),
        bias(tensor<T>::zeros({max_channels})),
        running_mean(tensor<T>::zeros({max_channels})),
        running_var(tensor<T>::ones({max_channels})),
        momentum_(momentum),
        eps_(eps) {
    this->register_parameter("weight", weight);
    this->register_parameter("bias", bias);
    this->register_buffer("running_mean", running_mean);
    this->register_buffer("running_var", running_var);
  }

  /// Normalises x [N,C,H,W] with the first C entries (training: batch statistics and an in-place
  /// EMA of running_*[:C]; eval: running_*[:C]; recalibrating: batch statistics, recorded).
  tensor<T> forward(const tensor<T>& x) {
    if (recal_) {
      detail::batch_stats st;
      auto y = detail::batch_norm(x, weight, bias, running_mean, running_var, true, momentum_, eps_,
                                  false, &st);
      const std::size_t c = st.mean.size();
      if (recal_->mean_sum.size() < c) {
        recal_->mean_sum.resize(c, 0.0);
        recal_->var_sum.resize(c, 0.0);
      }
      const double n = double(x.size(0));
      for (std::size_t i = 0; i < c; ++i) {
        recal_->mean_sum[i] += n * st.mean[i];
        recal_->var_sum[i] += n * st.var[i];
      }
      recal_->weight += n;
      return y;
    }
    return normalise(x, ops::bn_activation::none);
  }
  /// activate(forward(x), a); in training one fused op (ops::batch_norm_act: one pass fewer over
  /// the activations each way, no pre-activation tensor kept for the backward).
  tensor<T> forward_act(const tensor<T>& x, activation a) {
    if (recal_) return activate(forward(x), a);
    return normalise(x, a == activation::relu     ? ops::bn_activation::relu
                        : a == activation::hswish ? ops::bn_activation::hswish
                                                  : ops::bn_activation::none);
  }
  /// Starts (non-null) or ends (null) recording batch statistics instead of using running ones.
  void set_recalibration(bn_recalibration* r) { recal_ = r; }
  double momentum() const { return momentum_; }
  double eps() const { return eps_; }

 private:
  // The shared nat::ops kernel on the first C entries; prefix views of the running statistics
  // are updated in place. batch_norm_act runs plain batch norm (then the activation) in eval.
  tensor<T> normalise(const tensor<T>& x, ops::bn_activation a) {
    const std::size_t c = x.size(1);
    if (c > weight.numel())
      throw shape_error("batch_norm2d: input has " + std::to_string(c) +
                        " channels, the layer holds " + std::to_string(weight.numel()));
    return ops::batch_norm_act(x, detail::prefix(weight, {c}), detail::prefix(bias, {c}),
                               running_mean.slice(0, c), running_var.slice(0, c),
                               this->is_training(), a, momentum_, eps_);
  }

  double momentum_, eps_;
  bn_recalibration* recal_ = nullptr;
};

/// Squeeze-and-excite (ofa_spec §2.4): pool → 1x1 conv (C→md(C//4), bias) → ReLU → 1x1 conv
/// (→C, bias) → h-sigmoid → scale. Runs on the leading C channels of its max-size weights.
template <class T>
class se_layer : public basic_module<T> {
 public:
  tensor<T> reduce_weight, reduce_bias, expand_weight, expand_bias;

  se_layer(std::size_t max_channels, nat::rng& g) {
    const std::size_t mid = static_cast<std::size_t>(detail::round_channels(int(max_channels) / 4));
    reduce_weight = detail::kaiming_fan_out<T>({mid, max_channels, 1, 1}, g);
    reduce_bias = tensor<T>::zeros({mid});
    expand_weight = detail::kaiming_fan_out<T>({max_channels, mid, 1, 1}, g);
    expand_bias = tensor<T>::zeros({max_channels});
    this->register_parameter("fc.reduce.weight", reduce_weight);
    this->register_parameter("fc.reduce.bias", reduce_bias);
    this->register_parameter("fc.expand.weight", expand_weight);
    this->register_parameter("fc.expand.bias", expand_bias);
  }
  /// Hidden width for C input channels: md(C // 4).
  static std::size_t hidden(std::size_t c) {
    return static_cast<std::size_t>(detail::round_channels(int(c) / 4));
  }
  tensor<T> forward(const tensor<T>& x) const {
    const std::size_t c = x.size(1), mid = hidden(c);
    auto s = detail::global_avg_pool(x);
    auto z = ops::relu(ops::conv2d(s, detail::prefix(reduce_weight, {mid, c}),
                                   detail::prefix(reduce_bias, {mid}), 1, 0, 1));
    auto gate = ops::hsigmoid(ops::conv2d(z, detail::prefix(expand_weight, {c, mid}),
                                          detail::prefix(expand_bias, {c}), 1, 0, 1));
    return ops::mul(x, gate);
  }
};

/// What a conv layer is: its max sizes, kernel choices, stride, BN/activation.
struct conv_spec {
  std::size_t in_channels = 0;   ///< max input channels (ignored for depthwise)
  std::size_t out_channels = 0;  ///< max output channels (= channels for depthwise)
  std::vector<int> kernels{1};   ///< kernel choices, ascending; the weight holds the largest
  std::size_t stride = 1;
  bool depthwise = false;
  bool use_bn = true;
  activation act = activation::none;
  bool use_se = false;           ///< SE after the activation (OFA's depth_conv)
  bool elastic_names = false;    ///< OFA dynamic state-dict paths
  bool kernel_transform = true;  ///< learned 25x25 / 9x9 matrices between kernel sizes
  double bn_momentum = 0.1, bn_eps = 1e-5;
};

/// Convolution (+ BN) (+ activation) (+ SE): OFA's ConvLayer and the three parts of an MBConv.
/// Pointwise/full convs use `w[:out, :in]` (out = active_out, in = x's channels); a depthwise conv
/// uses the first C filters, reduced from the largest kernel to `active_kernel` by centre crops
/// and the learned transforms `7to5_matrix`, `5to3_matrix` (ofa_spec §2.1).
template <class T>
class conv_layer : public basic_module<T> {
 public:
  tensor<T> weight;
  std::vector<tensor<T>> transforms;  ///< transforms[i] maps kernels[i+1] to kernels[i]
  std::unique_ptr<batch_norm2d<T>> bn;
  std::unique_ptr<se_layer<T>> se;
  std::size_t active_out = 0;  ///< output channels used (not for depthwise)
  int active_kernel = 0;       ///< kernel size used

  conv_layer(const conv_spec& s, nat::rng& g) : spec_(s) {
    if (s.kernels.empty()) throw config_error("conv_layer: empty kernel list");
    const std::size_t k = static_cast<std::size_t>(s.kernels.back());
    const std::string cp = s.elastic_names ? "conv.conv." : "conv.";
    if (s.depthwise) {
      weight = detail::kaiming_fan_out<T>({s.out_channels, 1, k, k}, g);
    } else {
      weight = detail::kaiming_fan_out<T>({s.out_channels, s.in_channels, k, k}, g);
    }
    this->register_parameter(cp + "weight", weight);
    if (s.depthwise && s.kernel_transform && s.kernels.size() > 1) {
      transforms.resize(s.kernels.size() - 1);
      for (std::size_t i = s.kernels.size() - 1; i-- > 0;) {
        const std::size_t kk = static_cast<std::size_t>(s.kernels[i]) * s.kernels[i];
        transforms[i] = tensor<T>::zeros({kk, kk});
        for (std::size_t j = 0; j < kk; ++j) transforms[i].at(j, j) = T(1);
        this->register_parameter("conv." + std::to_string(s.kernels[i + 1]) + "to" +
                                     std::to_string(s.kernels[i]) + "_matrix",
                                 transforms[i]);
      }
    }
    if (s.use_bn) {
      bn = std::make_unique<batch_norm2d<T>>(s.out_channels, s.bn_momentum, s.bn_eps);
      this->register_module(s.elastic_names ? "bn.bn" : "bn", *bn);
    }
    if (s.use_se) {
      se = std::make_unique<se_layer<T>>(s.out_channels, g);
      this->register_module("se", *se);
    }
    active_out = s.out_channels;
    active_kernel = s.kernels.back();
  }

  const conv_spec& spec() const { return spec_; }

  /// The depthwise filter for the first `c` channels at `active_kernel` (ofa_spec §2.1):
  /// K3 = T53(crop(T75(crop(W[:c])))).
  tensor<T> active_filter(std::size_t c) const {
    tensor<T> f = detail::prefix(weight, {c});
    const auto& ks = spec_.kernels;
    std::size_t idx = ks.size() - 1;
    while (idx > 0 && ks[idx] > active_kernel) {
      --idx;
      f = detail::crop_transform(f, transforms.empty() ? tensor<T>() : transforms[idx],
                                 static_cast<std::size_t>(ks[idx]));
    }
    if (ks[idx] != active_kernel)
      throw config_error("conv_layer: kernel " + std::to_string(active_kernel) +
                         " is not one of the layer's choices");
    return f;
  }

  tensor<T> forward(const tensor<T>& x) {
    const std::size_t c = x.size(1);
    const std::size_t pad = static_cast<std::size_t>(active_kernel / 2);
    tensor<T> y;
    if (spec_.depthwise) {
      if (c > spec_.out_channels)
        throw shape_error("conv_layer: depthwise input has " + std::to_string(c) +
                          " channels, the layer holds " + std::to_string(spec_.out_channels));
      y = ops::depthwise_conv2d(x, active_filter(c), spec_.stride, pad);
    } else {
      const auto& k = weight.size(2);
      if (int(k) != active_kernel)
        throw config_error("conv_layer: elastic kernels are only supported for depthwise convs");
      y = ops::conv2d(x, detail::prefix(weight, {active_out, c}), spec_.stride, pad, 1);
    }
    y = bn ? bn->forward_act(y, spec_.act) : activate(y, spec_.act);
    if (se) y = se->forward(y);
    return y;
  }

 private:
  conv_spec spec_;
};

/// One MBConv block's structure (OFA's MBConvLayer / DynamicMBConvLayer).
struct mbconv_spec {
  std::size_t in_channels = 0;   ///< max input channels
  std::size_t out_channels = 0;  ///< output channels
  std::vector<int> kernels{3};   ///< depthwise kernel choices
  std::vector<int> expands{6};   ///< expand-ratio choices (1 = no expand conv)
  std::size_t stride = 1;
  activation act = activation::relu;
  bool use_se = false;
  bool elastic_names = false;
  double bn_momentum = 0.1, bn_eps = 1e-5;
  /// Middle width for `c_in` inputs and expand `e`: md(round(c_in·e)) (e = 1: c_in).
  static std::size_t mid(std::size_t c_in, int e) {
    return e == 1 ? c_in
                  : static_cast<std::size_t>(
                        detail::round_channels(detail::py_round(double(c_in) * e)));
  }
};

/// Inverted bottleneck: [1x1 expand + BN + act] → depthwise k×k (stride) + BN + act [+ SE] → 1x1
/// project + BN. Names: inverted_bottleneck, depth_conv, point_linear (ofa_spec §2.6, §6).
template <class T>
class mbconv_layer : public basic_module<T> {
 public:
  std::unique_ptr<conv_layer<T>> inverted_bottleneck;  ///< null when the max expand is 1
  std::unique_ptr<conv_layer<T>> depth_conv;
  std::unique_ptr<conv_layer<T>> point_linear;
  int active_expand = 0;  ///< expand ratio used

  mbconv_layer(const mbconv_spec& s, nat::rng& g) : spec_(s) {
    const std::size_t max_mid = mbconv_spec::mid(s.in_channels, s.expands.back());
    if (s.expands.back() != 1) {
      conv_spec c;
      c.in_channels = s.in_channels;
      c.out_channels = max_mid;
      c.act = s.act;
      c.elastic_names = s.elastic_names;
      c.bn_momentum = s.bn_momentum;
      c.bn_eps = s.bn_eps;
      inverted_bottleneck = std::make_unique<conv_layer<T>>(c, g);
      this->register_module("inverted_bottleneck", *inverted_bottleneck);
    }
    conv_spec d;
    d.out_channels = max_mid;
    d.kernels = s.kernels;
    d.stride = s.stride;
    d.depthwise = true;
    d.act = s.act;
    d.use_se = s.use_se;
    d.elastic_names = s.elastic_names;
    d.bn_momentum = s.bn_momentum;
    d.bn_eps = s.bn_eps;
    depth_conv = std::make_unique<conv_layer<T>>(d, g);
    this->register_module("depth_conv", *depth_conv);
    conv_spec p;
    p.in_channels = max_mid;
    p.out_channels = s.out_channels;
    p.elastic_names = s.elastic_names;
    p.bn_momentum = s.bn_momentum;
    p.bn_eps = s.bn_eps;
    point_linear = std::make_unique<conv_layer<T>>(p, g);
    this->register_module("point_linear", *point_linear);
    active_expand = s.expands.back();
  }

  const mbconv_spec& spec() const { return spec_; }
  /// Active kernel size (held by the depthwise conv).
  int active_kernel() const { return depth_conv->active_kernel; }
  void set_active(int kernel, int expand) {
    depth_conv->active_kernel = kernel;
    active_expand = expand;
  }

  tensor<T> forward(const tensor<T>& x) {
    tensor<T> h = x;
    if (inverted_bottleneck) {
      inverted_bottleneck->active_out = mbconv_spec::mid(x.size(1), active_expand);
      h = inverted_bottleneck->forward(h);
    }
    h = depth_conv->forward(h);
    return point_linear->forward(h);
  }

 private:
  mbconv_spec spec_;
};

/// An MBConv with an optional identity shortcut (OFA's ResidualBlock; names under "conv.").
template <class T>
class residual_block : public basic_module<T> {
 public:
  std::unique_ptr<mbconv_layer<T>> conv;
  bool identity_shortcut;

  residual_block(const mbconv_spec& s, bool identity, nat::rng& g)
      : conv(std::make_unique<mbconv_layer<T>>(s, g)), identity_shortcut(identity) {
    this->register_module("conv", *conv);
  }
  tensor<T> forward(const tensor<T>& x) {
    auto y = conv->forward(x);
    return identity_shortcut ? ops::add(y, x) : y;
  }
};

}  // namespace nat::nn
