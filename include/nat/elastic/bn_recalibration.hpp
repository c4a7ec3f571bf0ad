#pragma once
/// \file BatchNorm recalibration (OFA `set_running_statistics`, ofa_spec §5): after weight sharing
/// the running statistics are a mixture over subnets, so before evaluating a subnet its BN layers
/// get the statistics of its own activations on a few training batches.
#include <cstddef>
#include <functional>
#include <map>
#include <vector>

#include "nat/autograd/grad_mode.hpp"
#include "nat/core/error.hpp"
#include "nat/nn/layers.hpp"
#include "nat/nn/mobilenet_v3.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::elastic {

/// Calls f(bn) for every BatchNorm of `net` (first conv, every block, final expand).
template <class T, class F>
void for_each_batch_norm(nn::basic_mobilenet_v3<T>& net, F&& f) {
  auto conv = [&](nn::conv_layer<T>* c) {
    if (c && c->bn) f(*c->bn);
  };
  conv(net.first_conv.get());
  for (auto& b : net.blocks) {
    conv(b->conv->inverted_bottleneck.get());
    conv(b->conv->depth_conv.get());
    conv(b->conv->point_linear.get());
  }
  conv(net.final_expand_layer.get());
}

/// Recalibrates the BN statistics of `net` (a supernet with a subnet active, or an extracted
/// subnet) on `batches` of inputs: every BN normalises with its batch statistics while the network
/// runs without gradients, then running_mean[:C] ← batch-size-weighted mean of the batch means and
/// running_var[:C] ← the same mean of the biased batch variances (not an EMA). Channels beyond the
/// active C and BNs of skipped blocks are untouched. The network's mode is restored.
template <class T>
void recalibrate_bn(nn::basic_mobilenet_v3<T>& net, const std::vector<tensor<T>>& batches) {
  if (batches.empty()) throw config_error("recalibrate_bn: no batches given");
  std::map<nn::batch_norm2d<T>*, nn::bn_recalibration> acc;
  for_each_batch_norm(net, [&](nn::batch_norm2d<T>& bn) { bn.set_recalibration(&acc[&bn]); });
  const bool was_training = net.is_training();
  try {
    autograd::no_grad guard;
    for (const auto& x : batches) net.forward(x);
  } catch (...) {
    for_each_batch_norm(net, [&](nn::batch_norm2d<T>& bn) { bn.set_recalibration(nullptr); });
    throw;
  }
  for_each_batch_norm(net, [&](nn::batch_norm2d<T>& bn) {
    bn.set_recalibration(nullptr);
    const auto& a = acc[&bn];
    if (a.weight <= 0) return;
    for (std::size_t c = 0; c < a.mean_sum.size(); ++c) {
      bn.running_mean.data()[c] = T(a.mean_sum[c] / a.weight);
      bn.running_var.data()[c] = T(a.var_sum[c] / a.weight);
    }
  });
  net.train(was_training);
}

}  // namespace nat::elastic
