#pragma once
/// \file The layer-by-layer shape walk of one subnet, shared by MAC/param counting and the latency
/// lookup table, so that all three agree on feature sizes and widths.
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/subnet_config.hpp"
#include "nat/elastic/make_divisible.hpp"
#include "nat/elastic/supernet_config.hpp"
#include "nat/nn/activation.hpp"

namespace nat::elastic {

/// What a layer of the static network is.
enum class layer_kind { first_conv, mbconv, final_expand, pool, feature_mix, classifier };

/// One layer of an (extracted) subnet with its input/output feature-map shapes.
struct layer_info {
  layer_kind kind = layer_kind::mbconv;
  int in_size = 0;             ///< input height = width
  int in_channels = 0;         ///< input channels (features for the classifier)
  int out_size = 0;            ///< output height = width
  int out_channels = 0;        ///< output channels (classes for the classifier)
  int kernel = 1;              ///< conv kernel (depthwise kernel for an MBConv)
  int stride = 1;              ///< stride (depthwise stride for an MBConv)
  int expand = 1;              ///< MBConv expand ratio (1 = no expand conv, blocks[0])
  int mid_channels = 0;        ///< MBConv middle width md(round(in*e))
  int se_channels = 0;         ///< SE hidden width md(mid//4), 0 without SE
  bool identity_skip = false;  ///< residual add (stride 1 and in == out)
  nn::activation act = nn::activation::none;  ///< activation of the layer
  int stage = -1;  ///< elastic stage of an MBConv (-1 for blocks[0] and static layers)
};

/// Output size of a conv with `kernel`, `stride` and same padding kernel/2 on a `size` map.
inline int conv_out_size(int size, int kernel, int stride) {
  return (size + 2 * (kernel / 2) - kernel) / stride + 1;
}

/// The layers subnet `cfg` of supernet `p` runs, in order (blocks[0] as an expand-1 MBConv).
/// Validates `cfg` against `p` (config_error).
inline std::vector<layer_info> describe_layers(const supernet_config& p, const subnet_config& cfg) {
  p.check(cfg, "elastic::describe_layers");
  std::vector<layer_info> out;
  int f = cfg.r;
  layer_info l;
  l.kind = layer_kind::first_conv;
  l.in_size = f;
  l.in_channels = p.in_channels;
  l.kernel = 3;
  l.stride = p.first_conv_stride;
  l.out_size = f = conv_out_size(f, 3, p.first_conv_stride);
  l.out_channels = p.first_conv_channels;
  l.act = p.first_conv_act;
  out.push_back(l);

  l = layer_info{};
  l.kind = layer_kind::mbconv;
  l.in_size = l.out_size = f;
  l.in_channels = l.mid_channels = p.first_conv_channels;
  l.out_channels = p.first_block_channels;
  l.kernel = 3;
  l.identity_skip = p.first_conv_channels == p.first_block_channels;
  l.act = p.first_block_act;
  out.push_back(l);

  int c = p.first_block_channels;
  std::size_t layer = 0;
  for (std::size_t s = 0; s < p.stages.size(); ++s) {
    const auto& st = p.stages[s];
    for (int b = 0; b < cfg.d[s]; ++b, ++layer) {
      l = layer_info{};
      l.kind = layer_kind::mbconv;
      l.stage = static_cast<int>(s);
      l.in_size = f;
      l.in_channels = c;
      l.kernel = cfg.ks[layer];
      l.stride = b == 0 ? st.stride : 1;
      l.out_size = f = conv_out_size(f, l.kernel, l.stride);
      l.out_channels = st.out_channels;
      l.expand = cfg.e[layer];
      l.mid_channels = middle_channels(c, l.expand);
      l.se_channels = st.use_se ? se_channels(l.mid_channels) : 0;
      l.identity_skip = l.stride == 1 && c == st.out_channels;
      l.act = st.act;
      out.push_back(l);
      c = st.out_channels;
    }
  }
  l = layer_info{};
  l.kind = layer_kind::final_expand;
  l.in_size = l.out_size = f;
  l.in_channels = c;
  l.out_channels = p.final_expand_channels;
  l.act = p.head_act;
  out.push_back(l);

  l = layer_info{};
  l.kind = layer_kind::pool;
  l.in_size = f;
  l.out_size = 1;
  l.in_channels = l.out_channels = p.final_expand_channels;
  out.push_back(l);

  l = layer_info{};
  l.kind = layer_kind::feature_mix;
  l.in_size = l.out_size = 1;
  l.in_channels = p.final_expand_channels;
  l.out_channels = p.feature_mix_channels;
  l.act = p.head_act;
  out.push_back(l);

  l = layer_info{};
  l.kind = layer_kind::classifier;
  l.in_size = l.out_size = 1;
  l.in_channels = p.feature_mix_channels;
  l.out_channels = p.n_classes;
  out.push_back(l);
  return out;
}

}  // namespace nat::elastic
