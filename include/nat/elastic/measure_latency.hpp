#pragma once
/// \file Measured latency: of a whole network (batch 1 or N, warm-up, median) and of every
/// distinct layer of a supernet, which fills a latency_table (nat_spec §6, ofa_spec §7: OFA's
/// `measure_net_latency` runs zero inputs in eval mode, 50 warm-up + 50 timed runs).
#include <cstddef>
#include <memory>
#include <vector>

#include "nat/autograd/grad_mode.hpp"
#include "nat/core/rng.hpp"
#include "nat/elastic/latency_table.hpp"
#include "nat/elastic/layers.hpp"
#include "nat/elastic/supernet_config.hpp"
#include "nat/nn/layers.hpp"
#include "nat/nn/mobilenet_v3.hpp"
#include "nat/ops/linear.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::elastic {

/// Median forward latency (ms) of `net` in eval mode on a zero batch [batch, C, r, r].
template <class T>
double measure_network_latency_ms(nn::basic_mobilenet_v3<T>& net, int r, std::size_t batch = 1,
                                  int warmup = 10, int runs = 30) {
  const bool was_training = net.is_training();
  net.eval();
  autograd::no_grad guard;
  auto x = tensor<T>::zeros({batch, net.spec().in_channels, std::size_t(r), std::size_t(r)});
  const double ms = measure_latency_ms([&] { net.forward(x); }, warmup, runs);
  net.train(was_training);
  return ms;
}

/// Median latency (ms) of one layer described by `l`, built standalone with random weights and run
/// in eval mode on a zero input of its input shape and `batch` samples.
template <class T>
double measure_layer_latency_ms(const supernet_config& p, const layer_info& l,
                                std::size_t batch = 1, int warmup = 5, int runs = 15) {
  nat::rng g(0);
  autograd::no_grad guard;
  const auto in = tensor<T>::zeros(
      {batch, std::size_t(l.in_channels), std::size_t(l.in_size), std::size_t(l.in_size)});
  nn::conv_spec c;
  c.in_channels = std::size_t(l.in_channels);
  c.out_channels = std::size_t(l.out_channels);
  c.act = l.act;
  c.bn_momentum = p.bn_momentum;
  c.bn_eps = p.bn_eps;
  switch (l.kind) {
    case layer_kind::first_conv:
    case layer_kind::final_expand:
    case layer_kind::feature_mix: {
      c.kernels = {l.kernel};
      c.stride = std::size_t(l.stride);
      c.use_bn = l.kind != layer_kind::feature_mix;
      nn::conv_layer<T> layer(c, g);
      layer.eval();
      return measure_latency_ms([&] { layer.forward(in); }, warmup, runs);
    }
    case layer_kind::mbconv: {
      nn::mbconv_spec m;
      m.in_channels = std::size_t(l.in_channels);
      m.out_channels = std::size_t(l.out_channels);
      m.kernels = {l.kernel};
      m.expands = {l.expand};
      m.stride = std::size_t(l.stride);
      m.act = l.act;
      m.use_se = l.se_channels > 0;
      m.bn_momentum = p.bn_momentum;
      m.bn_eps = p.bn_eps;
      nn::residual_block<T> block(m, l.identity_skip, g);
      block.eval();
      return measure_latency_ms([&] { block.forward(in); }, warmup, runs);
    }
    case layer_kind::classifier: {
      const auto x = tensor<T>::zeros({batch, std::size_t(l.in_channels)});
      const auto w = tensor<T>::randn({std::size_t(l.out_channels), std::size_t(l.in_channels)}, 1);
      const auto b = tensor<T>::zeros({std::size_t(l.out_channels)});
      return measure_latency_ms([&] { ops::linear(x, w, b); }, warmup, runs);
    }
    default:
      return 0.0;
  }
}

/// A latency table of every distinct layer of `p` at `resolutions`, measured on this machine with
/// `repeats` medians per layer (each entry: count = repeats, mean and variance of the medians).
template <class T = float>
latency_table build_measured_latency_table(const supernet_config& p,
                                           const std::vector<int>& resolutions,
                                           std::size_t batch = 1, int repeats = 3, int warmup = 5,
                                           int runs = 15) {
  return build_latency_table(p, resolutions, [&](const layer_info& l) {
    std::vector<double> v;
    for (int i = 0; i < repeats; ++i)
      v.push_back(measure_layer_latency_ms<T>(p, l, batch, warmup, runs));
    return v;
  });
}

}  // namespace nat::elastic
