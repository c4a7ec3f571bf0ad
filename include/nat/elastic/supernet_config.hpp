#pragma once
/// \file The macro-structure of an elastic MobileNetV3 supernet (a run-time value) and its presets.
///
/// A `supernet_config` fixes everything that is not elastic: input channels, stem, the static first
/// block, each stage's output width, stride, activation and SE, the head widths and the number of
/// classes; and it lists the elastic choices (kernel, expand, depth, resolution). The presets are
/// OFA's two MobileNetV3 supernets (ofa_spec §1.1) and `mbv3_small`, a scaled-down layout for
/// 28–64 px images (docs/supernet.md explains its widths and strides).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/json.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/elastic/make_divisible.hpp"
#include "nat/nn/activation.hpp"

namespace nat::elastic {

/// One stage of elastic MBConv blocks: only its first block has the stride and changes the width.
struct stage_spec {
  int out_channels = 0;                       ///< output width of every block of the stage
  int stride = 1;                             ///< stride of the stage's first block
  bool use_se = false;                        ///< squeeze-and-excite after the depthwise conv
  nn::activation act = nn::activation::relu;  ///< activation of expand and depthwise convs
};

/// Fixed structure plus elastic choices of a MobileNetV3 supernet.
struct supernet_config {
  std::string name;              ///< preset name ("ofa_mbv3_w12", "mbv3_small", ...)
  double width_mult = 1.0;       ///< the `w` a subnet_config of this supernet carries
  int in_channels = 3;           ///< image channels
  int n_classes = 1000;          ///< classifier outputs
  int first_conv_channels = 16;  ///< stem 3x3 conv width
  int first_conv_stride = 2;     ///< stem stride
  nn::activation first_conv_act = nn::activation::hswish;  ///< stem activation
  int first_block_channels = 16;  ///< output of the static expand-1 MBConv (blocks[0])
  nn::activation first_block_act = nn::activation::relu;  ///< blocks[0] activation
  std::vector<stage_spec> stages;                         ///< the elastic stages
  int final_expand_channels = 960;  ///< final 1x1 conv + BN + act width (before pooling)
  int feature_mix_channels = 1280;  ///< 1x1 conv after pooling (no BN, no bias)
  nn::activation head_act = nn::activation::hswish;  ///< final-expand and feature-mix activation
  std::vector<int> kernel_list{3, 5, 7};             ///< depthwise kernel choices (ascending)
  std::vector<int> expand_list{3, 4, 6};             ///< expand-ratio choices (ascending)
  std::vector<int> depth_list{2, 3, 4};              ///< blocks per stage choices (ascending)
  std::vector<int> resolutions;                      ///< allowed input resolutions (ascending)
  double bn_momentum = 0.1;                          ///< BatchNorm EMA factor (PyTorch convention)
  double bn_eps = 1e-5;                              ///< BatchNorm epsilon
  double dropout = 0.1;                              ///< classifier dropout while training

  /// Blocks per stage in the supernet (the largest depth).
  int max_depth() const { return depth_list.empty() ? 0 : depth_list.back(); }
  /// Number of elastic block slots (stages × max depth); OFA's `blocks[1:]`.
  int n_slots() const { return static_cast<int>(stages.size()) * max_depth(); }
  /// Largest kernel / expand ratio.
  int max_kernel() const { return kernel_list.empty() ? 0 : kernel_list.back(); }
  int max_expand() const { return expand_list.empty() ? 0 : expand_list.back(); }

  /// Input width of stage `s`'s first block.
  int stage_in_channels(std::size_t s) const {
    return s == 0 ? first_block_channels : stages[s - 1].out_channels;
  }

  /// Checks the structure itself; config_error naming the field.
  void validate() const {
    auto fail = [&](const std::string& m) {
      throw config_error("supernet_config(" + name + "): " + m);
    };
    if (in_channels <= 0) fail("in_channels must be positive");
    if (n_classes <= 0) fail("n_classes must be positive, got " + std::to_string(n_classes));
    if (first_conv_channels <= 0 || first_block_channels <= 0 || final_expand_channels <= 0 ||
        feature_mix_channels <= 0)
      fail("all widths must be positive");
    if (first_conv_stride < 1) fail("first_conv_stride must be >= 1");
    if (stages.empty()) fail("needs at least one stage");
    for (const auto& s : stages)
      if (s.out_channels <= 0 || s.stride < 1) fail("stage widths and strides must be positive");
    auto sorted_positive = [](const std::vector<int>& v) {
      if (v.empty()) return false;
      for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] <= 0 || (i > 0 && v[i] <= v[i - 1])) return false;
      return true;
    };
    if (!sorted_positive(kernel_list)) fail("kernel_list must be ascending and positive");
    for (int k : kernel_list)
      if (k % 2 == 0) fail("kernel sizes must be odd, got " + std::to_string(k));
    if (!sorted_positive(expand_list)) fail("expand_list must be ascending and positive");
    if (!sorted_positive(depth_list)) fail("depth_list must be ascending and positive");
    if (!sorted_positive(resolutions)) fail("resolutions must be ascending and positive");
  }

  /// Checks that `cfg` is a subnet of this supernet; config_error naming the offending entry
  /// (e.g. "kernel 9 of layer 3 is not in {3,5,7}").
  void check(const subnet_config& cfg, const char* who = "supernet_config::check") const {
    cfg.validate(who);
    auto fail = [&](const std::string& m) {
      throw config_error(std::string(who) + ": " + m + " (supernet " + name + ")");
    };
    auto list = [](const std::vector<int>& v) {
      std::string s = "{";
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
      return s + "}";
    };
    auto has = [](const std::vector<int>& v, int x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    if (std::fabs(cfg.w - width_mult) > 1e-9)
      fail("width multiplier " + json::value(cfg.w).dump() + " does not match the supernet's " +
           json::value(width_mult).dump());
    if (!has(resolutions, cfg.r))
      fail("resolution " + std::to_string(cfg.r) + " is not one of " +
           std::to_string(resolutions.front()) + ".." + std::to_string(resolutions.back()) + " " +
           list(resolutions));
    if (cfg.d.size() != stages.size())
      fail("d needs " + std::to_string(stages.size()) + " stage depths, got " +
           std::to_string(cfg.d.size()));
    for (std::size_t s = 0; s < cfg.d.size(); ++s)
      if (!has(depth_list, cfg.d[s]))
        fail("depth " + std::to_string(cfg.d[s]) + " of stage " + std::to_string(s) +
             " is not in " + list(depth_list));
    for (std::size_t i = 0; i < cfg.ks.size(); ++i)
      if (!has(kernel_list, cfg.ks[i]))
        fail("kernel " + std::to_string(cfg.ks[i]) + " of layer " + std::to_string(i) +
             " is not in " + list(kernel_list));
    for (std::size_t i = 0; i < cfg.e.size(); ++i)
      if (!has(expand_list, cfg.e[i]))
        fail("expand ratio " + std::to_string(cfg.e[i]) + " of layer " + std::to_string(i) +
             " is not in " + list(expand_list));
  }

  /// The largest subnet (max kernel, expand, depth) at resolution `r` (default: largest).
  subnet_config largest(int r = 0) const {
    return uniform(max_kernel(), max_expand(), max_depth(), r);
  }
  /// The smallest subnet (min kernel, expand, depth) at resolution `r` (default: largest r).
  subnet_config smallest(int r = 0) const {
    return uniform(kernel_list.front(), expand_list.front(), depth_list.front(), r);
  }
  /// Every stage at depth `d`, every layer with kernel `k` and expand `e`.
  subnet_config uniform(int k, int e, int d, int r = 0) const {
    subnet_config c;
    c.r = r > 0 ? r : resolutions.back();
    c.w = width_mult;
    c.d.assign(stages.size(), d);
    c.ks.assign(c.n_layers(), k);
    c.e.assign(c.n_layers(), e);
    return c;
  }

  /// Number of distinct subnets (architectures × resolutions), as a double (OFA's is ~2e19).
  double space_size() const {
    const double ke = static_cast<double>(kernel_list.size() * expand_list.size());
    double per_stage = 0;
    for (int d : depth_list) per_stage += std::pow(ke, d);
    return std::pow(per_stage, static_cast<double>(stages.size())) *
           static_cast<double>(resolutions.size());
  }
};

namespace detail {
inline std::vector<int> range_step(int lo, int hi, int step) {
  std::vector<int> v;
  for (int x = lo; x <= hi; x += step) v.push_back(x);
  return v;
}

// OFA-MobileNetV3 (ofa_spec §1.1): base widths passed through md(base * w).
inline supernet_config ofa_mbv3(double w, const std::string& name, int n_classes) {
  const int base[9] = {16, 16, 24, 40, 80, 112, 160, 960, 1280};
  int c[9];
  for (int i = 0; i < 9; ++i) c[i] = make_divisible(base[i] * w);
  supernet_config p;
  p.name = name;
  p.width_mult = w;
  p.in_channels = 3;
  p.n_classes = n_classes;
  p.first_conv_channels = c[0];
  p.first_conv_stride = 2;
  p.first_block_channels = c[1];
  using nn::activation;
  p.stages = {{c[2], 2, false, activation::relu},
              {c[3], 2, true, activation::relu},
              {c[4], 2, false, activation::hswish},
              {c[5], 1, true, activation::hswish},
              {c[6], 2, true, activation::hswish}};
  p.final_expand_channels = c[7];
  p.feature_mix_channels = c[8];
  // OFA trains at 128..224 and NAT searches 192..256, both in steps of 4 (nat_spec §1); the
  // supernet accepts the union.
  p.resolutions = range_step(128, 256, 4);
  p.validate();
  return p;
}
}  // namespace detail

/// OFA's `ofa_mbv3_d234_e346_k357_w1.0` layout (ofa_spec §1.1): 3 input channels, stride 32,
/// widths 16/16/24/40/80/112/160/960/1280, resolutions 128..256 step 4.
inline supernet_config ofa_mbv3_w10(int n_classes = 1000) {
  return detail::ofa_mbv3(1.0, "ofa_mbv3_w10", n_classes);
}

/// OFA's `ofa_mbv3_d234_e346_k357_w1.2` layout: widths 24/24/32/48/96/136/192/1152/1536.
inline supernet_config ofa_mbv3_w12(int n_classes = 1000) {
  return detail::ofa_mbv3(1.2, "ofa_mbv3_w12", n_classes);
}

/// A MobileNetV3 supernet for small images (28–64 px, e.g. Fashion-MNIST, CIFAR): stem stride 1
/// and stage strides 2,1,2,1,2 (total stride 8, so a 28 px image ends on a 4x4 map instead of
/// OFA's 1x1), widths 16/16 then stages 16/24/48/64/96 with a 384→512 head; the largest subnet
/// costs 47.5 M MACs at 28 px (OFA w1.0: 566 M at 224 px). Same elastic choices as OFA
/// (kernel {3,5,7}, expand {3,4,6}, depth {2,3,4}); resolutions 28..64 step 4. docs/supernet.md
/// gives the reasoning behind the widths (an epoch of Fashion-MNIST in minutes on a CPU).
inline supernet_config mbv3_small(int in_channels = 1, int n_classes = 10) {
  supernet_config p;
  p.name = "mbv3_small";
  p.width_mult = 1.0;
  p.in_channels = in_channels;
  p.n_classes = n_classes;
  p.first_conv_channels = 16;
  p.first_conv_stride = 1;
  p.first_block_channels = 16;
  using nn::activation;
  p.stages = {{16, 2, false, activation::relu},
              {24, 1, true, activation::relu},
              {48, 2, false, activation::hswish},
              {64, 1, true, activation::hswish},
              {96, 2, true, activation::hswish}};
  p.final_expand_channels = 384;
  p.feature_mix_channels = 512;
  p.resolutions = detail::range_step(28, 64, 4);
  p.validate();
  return p;
}

/// Preset by name ("ofa_mbv3_w10", "ofa_mbv3_w12", "mbv3_small"); `n_classes` / `in_channels` <= 0
/// keep the preset's default. config_error listing the known names otherwise.
inline supernet_config preset(const std::string& name, int n_classes = 0, int in_channels = 0) {
  supernet_config p;
  if (name == "ofa_mbv3_w10" || name == "ofa_mbv3_w1.0")
    p = ofa_mbv3_w10();
  else if (name == "ofa_mbv3_w12" || name == "ofa_mbv3_w1.2")
    p = ofa_mbv3_w12();
  else if (name == "mbv3_small")
    p = mbv3_small();
  else
    throw config_error("elastic::preset: unknown preset \"" + name +
                       "\"; expected ofa_mbv3_w10, ofa_mbv3_w12 or mbv3_small");
  if (n_classes > 0) p.n_classes = n_classes;
  if (in_channels > 0) p.in_channels = in_channels;
  p.validate();
  return p;
}

/// The OFA preset a NAT subnet_config refers to through its width multiplier (1.0 or 1.2).
inline supernet_config ofa_preset_for(const subnet_config& cfg, int n_classes = 1000) {
  if (std::fabs(cfg.w - 1.0) < 1e-9) return ofa_mbv3_w10(n_classes);
  if (std::fabs(cfg.w - 1.2) < 1e-9) return ofa_mbv3_w12(n_classes);
  throw config_error("elastic::ofa_preset_for: width multiplier must be 1.0 or 1.2, got " +
                     json::value(cfg.w).dump());
}

}  // namespace nat::elastic
