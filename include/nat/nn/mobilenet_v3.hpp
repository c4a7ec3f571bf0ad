#pragma once
/// \file MobileNetV3 as OFA builds it (ofa_spec §1.1, §6): first_conv → blocks → final_expand_layer
/// → global pool → feature_mix_layer (no BN) → classifier. The static network an extracted subnet
/// becomes, and the body of the elastic supernet (which adds block skipping and active choices).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/nn/layers.hpp"
#include "nat/nn/module.hpp"
#include "nat/ops/dropout.hpp"
#include "nat/ops/linear.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::nn {

/// Structure of a MobileNetV3 (OFA's net.config in plain fields).
struct mobilenet_v3_spec {
  std::size_t in_channels = 3;
  std::size_t first_conv_channels = 16;
  std::size_t first_conv_stride = 2;
  activation first_conv_act = activation::hswish;
  struct block {
    mbconv_spec conv;
    bool identity_shortcut = false;
  };
  std::vector<block> blocks;
  std::size_t final_expand_channels = 960;
  std::size_t feature_mix_channels = 1280;
  activation head_act = activation::hswish;
  std::size_t n_classes = 1000;
  double bn_momentum = 0.1, bn_eps = 1e-5;
};

/// A MobileNetV3 network; `active_blocks` lets a supernet skip blocks (elastic depth).
template <class T>
class basic_mobilenet_v3 : public basic_module<T> {
 public:
  std::unique_ptr<conv_layer<T>> first_conv;
  std::vector<std::unique_ptr<residual_block<T>>> blocks;
  std::unique_ptr<conv_layer<T>> final_expand_layer;
  std::unique_ptr<conv_layer<T>> feature_mix_layer;
  tensor<T> classifier_weight, classifier_bias;
  std::vector<bool> active_blocks;  ///< blocks run by forward (all by default)
  double dropout_rate = 0.0;  ///< classifier-input dropout while training (OFA trains with 0.1)
  std::uint64_t dropout_seed = 0;  ///< seed of the next dropout mask (advanced by every forward)

  /// Builds the network with OFA's initialisation (He fan-out convs, BN 1/0, linear
  /// U(±1/sqrt(in)) with zero bias) drawn from `seed`.
  explicit basic_mobilenet_v3(const mobilenet_v3_spec& s, std::uint64_t seed = 0) : spec_(s) {
    nat::rng g(seed);
    conv_spec f;
    f.in_channels = s.in_channels;
    f.out_channels = s.first_conv_channels;
    f.kernels = {3};
    f.stride = s.first_conv_stride;
    f.act = s.first_conv_act;
    f.bn_momentum = s.bn_momentum;
    f.bn_eps = s.bn_eps;
    first_conv = std::make_unique<conv_layer<T>>(f, g);
    this->register_module("first_conv", *first_conv);
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
      blocks.push_back(
          std::make_unique<residual_block<T>>(s.blocks[i].conv, s.blocks[i].identity_shortcut, g));
      this->register_module("blocks." + std::to_string(i), *blocks.back());
    }
    active_blocks.assign(blocks.size(), true);
    conv_spec fe;
    fe.in_channels = s.blocks.empty() ? s.first_conv_channels : s.blocks.back().conv.out_channels;
    fe.out_channels = s.final_expand_channels;
    fe.act = s.head_act;
    fe.bn_momentum = s.bn_momentum;
    fe.bn_eps = s.bn_eps;
    final_expand_layer = std::make_unique<conv_layer<T>>(fe, g);
    this->register_module("final_expand_layer", *final_expand_layer);
    conv_spec fm;
    fm.in_channels = s.final_expand_channels;
    fm.out_channels = s.feature_mix_channels;
    fm.act = s.head_act;
    fm.use_bn = false;
    feature_mix_layer = std::make_unique<conv_layer<T>>(fm, g);
    this->register_module("feature_mix_layer", *feature_mix_layer);
    const double bound = 1.0 / std::sqrt(double(s.feature_mix_channels));
    classifier_weight = tensor<T>::empty({s.n_classes, s.feature_mix_channels});
    for (std::size_t i = 0; i < classifier_weight.numel(); ++i)
      classifier_weight.data()[i] = T(g.uniform(-bound, bound));
    classifier_bias = tensor<T>::zeros({s.n_classes});
    this->register_parameter("classifier.linear.weight", classifier_weight);
    this->register_parameter("classifier.linear.bias", classifier_bias);
  }

  const mobilenet_v3_spec& spec() const { return spec_; }

  /// Logits [N, n_classes] of images x [N, in_channels, H, W] (any H, W the strides allow).
  tensor<T> forward(const tensor<T>& x) {
    if (x.rank() != 4 || x.size(1) != spec_.in_channels)
      throw shape_error("mobilenet_v3::forward: expected input [N," +
                        std::to_string(spec_.in_channels) + ",H,W], got " + to_string(x.shape()));
    auto h = first_conv->forward(x);
    for (std::size_t i = 0; i < blocks.size(); ++i)
      if (active_blocks[i]) h = blocks[i]->forward(h);
    h = final_expand_layer->forward(h);
    h = detail::global_avg_pool(h);
    h = feature_mix_layer->forward(h);
    h = detail::reshape(h, {h.size(0), h.size(1)});
    // OFA's LinearLayer applies dropout before the classifier; masks are seeded per forward so a
    // run is reproducible.
    if (this->is_training() && dropout_rate > 0) h = ops::dropout(h, dropout_rate, dropout_seed++);
    return ops::linear(h, classifier_weight, classifier_bias);
  }

 private:
  mobilenet_v3_spec spec_;
};

/// Single-precision MobileNetV3.
using mobilenet_v3 = basic_mobilenet_v3<float>;

}  // namespace nat::nn
