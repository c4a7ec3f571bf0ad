#pragma once
/// \file The elastic MobileNetV3 supernet (OFA, ofa_spec §1–§3, §6): one set of max-size weights,
/// any subnet (kernel, expand per block, depth per stage, any resolution) selected at run time,
/// channel sorting, and extraction of a subnet into a static nn::basic_mobilenet_v3.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "nat/autograd/grad_mode.hpp"
#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/elastic/layers.hpp"
#include "nat/elastic/subnet_config.hpp"
#include "nat/elastic/supernet_config.hpp"
#include "nat/nn/layers.hpp"
#include "nat/nn/mobilenet_v3.hpp"

namespace nat::elastic {

namespace detail {

// Structure of the whole supernet: static first conv and blocks[0], then every stage at full depth
// with the elastic kernel/expand lists and OFA's dynamic state-dict names.
inline nn::mobilenet_v3_spec supernet_spec(const supernet_config& p) {
  nn::mobilenet_v3_spec s;
  s.in_channels = std::size_t(p.in_channels);
  s.first_conv_channels = std::size_t(p.first_conv_channels);
  s.first_conv_stride = std::size_t(p.first_conv_stride);
  s.first_conv_act = p.first_conv_act;
  s.final_expand_channels = std::size_t(p.final_expand_channels);
  s.feature_mix_channels = std::size_t(p.feature_mix_channels);
  s.head_act = p.head_act;
  s.n_classes = std::size_t(p.n_classes);
  s.bn_momentum = p.bn_momentum;
  s.bn_eps = p.bn_eps;
  nn::mobilenet_v3_spec::block b0;
  b0.conv.in_channels = s.first_conv_channels;
  b0.conv.out_channels = std::size_t(p.first_block_channels);
  b0.conv.kernels = {3};
  b0.conv.expands = {1};
  b0.conv.act = p.first_block_act;
  b0.conv.bn_momentum = p.bn_momentum;
  b0.conv.bn_eps = p.bn_eps;
  b0.identity_shortcut = p.first_conv_channels == p.first_block_channels;
  s.blocks.push_back(b0);
  for (std::size_t st = 0; st < p.stages.size(); ++st) {
    for (int b = 0; b < p.max_depth(); ++b) {
      nn::mobilenet_v3_spec::block blk;
      const std::size_t in =
          b == 0 ? std::size_t(p.stage_in_channels(st)) : std::size_t(p.stages[st].out_channels);
      blk.conv.in_channels = in;
      blk.conv.out_channels = std::size_t(p.stages[st].out_channels);
      blk.conv.kernels = p.kernel_list;
      blk.conv.expands = p.expand_list;
      blk.conv.stride = b == 0 ? std::size_t(p.stages[st].stride) : 1;
      blk.conv.act = p.stages[st].act;
      blk.conv.use_se = p.stages[st].use_se;
      blk.conv.elastic_names = true;
      blk.conv.bn_momentum = p.bn_momentum;
      blk.conv.bn_eps = p.bn_eps;
      blk.identity_shortcut = blk.conv.stride == 1 && in == blk.conv.out_channels;
      s.blocks.push_back(blk);
    }
  }
  return s;
}

// In-place permutation of dimension `dim`: t[..., i, ...] ← t[..., perm[i], ...].
template <class T>
void permute_dim(const tensor<T>& t, std::size_t dim, const std::vector<std::size_t>& perm) {
  const tensor<T> src = t.clone();
  for (std::size_t i = 0; i < perm.size(); ++i)
    t.narrow(dim, i, 1).copy_from(src.narrow(dim, perm[i], 1));
}

template <class T>
void permute_bn(const nn::batch_norm2d<T>& bn, const std::vector<std::size_t>& perm) {
  for (const tensor<T>* t : {&bn.weight, &bn.bias, &bn.running_mean, &bn.running_var})
    permute_dim(*t, 0, perm);
}

// Indices sorting `v` descending (stable, so ties keep their order).
inline std::vector<std::size_t> argsort_desc(const std::vector<double>& v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), std::size_t(0));
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return v[a] > v[b]; });
  return idx;
}

template <class T>
void copy_prefix(const tensor<T>& dst, const tensor<T>& src) {
  tensor<T> v = src.detach();
  for (std::size_t d = 0; d < dst.rank(); ++d) v = v.slice(d, dst.size(d));
  dst.copy_from(v);
}

template <class T>
void copy_bn(const nn::batch_norm2d<T>& dst, const nn::batch_norm2d<T>& src) {
  copy_prefix(dst.weight, src.weight);
  copy_prefix(dst.bias, src.bias);
  copy_prefix(dst.running_mean, src.running_mean);
  copy_prefix(dst.running_var, src.running_var);
}

}  // namespace detail

/// OFA's elastic MobileNetV3 supernet over a `supernet_config` layout.
///
/// `blocks[0]` is static; `blocks[1 + s·max_depth + j]` is block j of stage s. Parameters carry
/// OFA's state-dict paths (`blocks.5.conv.depth_conv.conv.7to5_matrix`, …).
template <class T>
class basic_supernet : public nn::basic_mobilenet_v3<T> {
 public:
  /// Builds the supernet with OFA's initialisation drawn from `seed`; the largest subnet at the
  /// largest resolution is active.
  explicit basic_supernet(const supernet_config& p, std::uint64_t seed = 0)
      : nn::basic_mobilenet_v3<T>(detail::supernet_spec((p.validate(), p)), seed), config_(p) {
    this->dropout_rate = p.dropout;
    this->dropout_seed = seed;
    set_active(p.largest());
  }

  /// The layout this supernet was built with.
  const supernet_config& config() const { return config_; }
  /// The active subnet.
  const subnet_config& active() const { return active_; }

  /// Selects the subnet `cfg` (validated against the layout; config_error otherwise). Resolution
  /// is the input's: forward accepts any size, cfg.r is kept for bookkeeping.
  void set_active(const subnet_config& cfg) {
    config_.check(cfg, "supernet::set_active");
    std::size_t layer = 0;
    const int md = config_.max_depth();
    for (std::size_t s = 0; s < config_.stages.size(); ++s)
      for (int b = 0; b < md; ++b) {
        const std::size_t slot = 1 + s * std::size_t(md) + std::size_t(b);
        const bool on = b < cfg.d[s];
        this->active_blocks[slot] = on;
        if (on) {
          this->blocks[slot]->conv->set_active(cfg.ks[layer], cfg.e[layer]);
          ++layer;
        }
      }
    active_ = cfg;
  }

  /// Draws a uniformly random subnet in OFA's order (kernel for every slot, then expand for every
  /// slot, then depth per stage, ofa_spec §2.7), then a resolution; activates and returns it.
  subnet_config sample_active(nat::rng& g) {
    const std::size_t n_slots = std::size_t(config_.n_slots());
    std::vector<int> ks(n_slots), es(n_slots);
    for (auto& k : ks) k = config_.kernel_list[g.index(config_.kernel_list.size())];
    for (auto& e : es) e = config_.expand_list[g.index(config_.expand_list.size())];
    subnet_config c;
    c.w = config_.width_mult;
    for (std::size_t s = 0; s < config_.stages.size(); ++s)
      c.d.push_back(config_.depth_list[g.index(config_.depth_list.size())]);
    c.r = config_.resolutions[g.index(config_.resolutions.size())];
    for (std::size_t s = 0; s < config_.stages.size(); ++s)
      for (int b = 0; b < c.d[s]; ++b) {
        const std::size_t slot = s * std::size_t(config_.max_depth()) + std::size_t(b);
        c.ks.push_back(ks[slot]);
        c.e.push_back(es[slot]);
      }
    set_active(c);
    return c;
  }

  /// OFA's `re_organize_middle_weights` (ofa_spec §3): sorts every elastic block's middle channels
  /// by the L1 norm of the projection's input slices (and SE hidden units by the SE expand
  /// weights), so that channel prefixes keep the most important channels. With
  /// `expand_stage` > 0 channels are only re-sorted within the bands already trained
  /// (width(e_{i+1}) .. width(e_i)), keeping earlier nestings intact. The function of the largest
  /// subnet is unchanged.
  void reorganize_middle_weights(int expand_stage = 0) {
    autograd::no_grad guard;
    const std::size_t n_exp = config_.expand_list.size();
    if (expand_stage < 0 || std::size_t(expand_stage) >= n_exp)
      throw config_error("supernet::reorganize_middle_weights: expand_stage must be 0.." +
                         std::to_string(n_exp - 1) + ", got " + std::to_string(expand_stage));
    for (std::size_t slot = 1; slot < this->blocks.size(); ++slot) {
      auto& mb = *this->blocks[slot]->conv;
      const auto& pl = mb.point_linear->weight;  // [out, max_mid, 1, 1]
      const std::size_t mid = pl.size(1), out = pl.size(0);
      std::vector<double> imp(mid, 0.0);
      const std::vector<T> w = pl.to_vector();
      for (std::size_t o = 0; o < out; ++o)
        for (std::size_t c = 0; c < mid; ++c) imp[c] += std::fabs(double(w[o * mid + c]));
      if (expand_stage > 0) {
        std::vector<int> sorted(config_.expand_list.rbegin(), config_.expand_list.rend());
        std::size_t right = mid;
        double base = -double(sorted.size()) * 1e5;
        for (int i = 0; i <= expand_stage; ++i) {
          const std::size_t left =
              nn::mbconv_spec::mid(mb.spec().in_channels, sorted[std::size_t(i)]);
          for (std::size_t c = left; c < right; ++c) imp[c] += base;
          base += 1e5;
          right = left;
        }
      }
      const auto perm = detail::argsort_desc(imp);
      detail::permute_dim(pl, 1, perm);
      auto& dw = *mb.depth_conv;
      detail::permute_bn(*dw.bn, perm);
      detail::permute_dim(dw.weight, 0, perm);
      if (dw.se) {
        auto& se = *dw.se;
        detail::permute_dim(se.expand_weight, 0, perm);
        detail::permute_dim(se.expand_bias, 0, perm);
        detail::permute_dim(se.reduce_weight, 1, perm);
        const std::size_t hid = se.expand_weight.size(1), ch = se.expand_weight.size(0);
        std::vector<double> se_imp(hid, 0.0);
        const std::vector<T> ew = se.expand_weight.to_vector();
        for (std::size_t c = 0; c < ch; ++c)
          for (std::size_t m = 0; m < hid; ++m) se_imp[m] += std::fabs(double(ew[c * hid + m]));
        const auto perm2 = detail::argsort_desc(se_imp);
        detail::permute_dim(se.expand_weight, 1, perm2);
        detail::permute_dim(se.reduce_weight, 0, perm2);
        detail::permute_dim(se.reduce_bias, 0, perm2);
      }
      if (mb.inverted_bottleneck) {
        detail::permute_bn(*mb.inverted_bottleneck->bn, perm);
        detail::permute_dim(mb.inverted_bottleneck->weight, 0, perm);
      }
    }
  }

  /// The static structure of the active subnet (what extract() builds).
  nn::mobilenet_v3_spec active_spec() const {
    nn::mobilenet_v3_spec s = this->spec();
    std::vector<nn::mobilenet_v3_spec::block> blocks{s.blocks[0]};
    for (const auto& l : describe_layers(config_, active_)) {
      if (l.kind != layer_kind::mbconv || l.stage < 0) continue;
      nn::mobilenet_v3_spec::block b;
      b.conv.in_channels = std::size_t(l.in_channels);
      b.conv.out_channels = std::size_t(l.out_channels);
      b.conv.kernels = {l.kernel};
      b.conv.expands = {l.expand};
      b.conv.stride = std::size_t(l.stride);
      b.conv.act = l.act;
      b.conv.use_se = l.se_channels > 0;
      b.conv.bn_momentum = config_.bn_momentum;
      b.conv.bn_eps = config_.bn_eps;
      b.identity_shortcut = l.identity_skip;
      blocks.push_back(b);
    }
    s.blocks = blocks;
    return s;
  }

  /// OFA's `get_active_subnet(preserve_weight=True)` (ofa_spec §6): a static network holding
  /// copies of the active subnet's weights (prefixes; depthwise kernels with the transforms
  /// baked in) and BN statistics. Its output equals the supernet's for the same input and mode.
  std::unique_ptr<nn::basic_mobilenet_v3<T>> extract() const {
    autograd::no_grad guard;
    auto net = std::make_unique<nn::basic_mobilenet_v3<T>>(active_spec());
    copy_conv(*net->first_conv, *this->first_conv);
    std::size_t dst = 0;
    for (std::size_t slot = 0; slot < this->blocks.size(); ++slot) {
      if (!this->active_blocks[slot]) continue;
      const auto& s = *this->blocks[slot]->conv;
      auto& d = *net->blocks[dst++]->conv;
      if (d.inverted_bottleneck) copy_conv(*d.inverted_bottleneck, *s.inverted_bottleneck);
      const std::size_t mid = d.depth_conv->weight.size(0);
      d.depth_conv->weight.copy_from(s.depth_conv->active_filter(mid));
      detail::copy_bn(*d.depth_conv->bn, *s.depth_conv->bn);
      if (d.depth_conv->se) {
        const auto& ss = *s.depth_conv->se;
        auto& ds = *d.depth_conv->se;
        detail::copy_prefix(ds.reduce_weight, ss.reduce_weight);
        detail::copy_prefix(ds.reduce_bias, ss.reduce_bias);
        detail::copy_prefix(ds.expand_weight, ss.expand_weight);
        detail::copy_prefix(ds.expand_bias, ss.expand_bias);
      }
      copy_conv(*d.point_linear, *s.point_linear);
    }
    copy_conv(*net->final_expand_layer, *this->final_expand_layer);
    copy_conv(*net->feature_mix_layer, *this->feature_mix_layer);
    net->classifier_weight.copy_from(this->classifier_weight);
    net->classifier_bias.copy_from(this->classifier_bias);
    net->dropout_rate = this->dropout_rate;
    net->dropout_seed = this->dropout_seed;
    net->train(this->is_training());
    return net;
  }

 private:
  static void copy_conv(nn::conv_layer<T>& d, const nn::conv_layer<T>& s) {
    detail::copy_prefix(d.weight, s.weight);
    if (d.bn) detail::copy_bn(*d.bn, *s.bn);
  }

  supernet_config config_;
  subnet_config active_;
};

/// Single-precision supernet.
using supernet = basic_supernet<float>;

}  // namespace nat::elastic
