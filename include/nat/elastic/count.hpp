#pragma once
/// \file Analytic multiply-accumulate and parameter counts of a subnet.
///
/// MACs follow OFA's analytic formula (ofa_spec §7, `count_flops_given_config`), which nat_spec §6
/// adopts as the fixed convention: conv and linear multiply-accumulates only (BN, activations, the
/// SE scaling and the residual add count 0), SE counted as `2·mid·se_mid` (its two 1x1 convs on a
/// 1x1 map). Parameters are what the extracted static subnet holds: conv weights, BN affine
/// (weight, bias), SE and classifier biases; BN running statistics and the kernel transform
/// matrices (baked into the extracted depthwise weights) are not counted.
#include <cstdint>
#include <vector>

#include "nat/core/subnet_config.hpp"
#include "nat/elastic/layers.hpp"
#include "nat/elastic/supernet_config.hpp"

namespace nat::elastic {

/// MACs of one layer (see the file comment for the convention).
inline std::int64_t layer_macs(const layer_info& l) {
  using i64 = std::int64_t;
  const i64 fin2 = i64(l.in_size) * l.in_size, fout2 = i64(l.out_size) * l.out_size;
  switch (l.kind) {
    case layer_kind::first_conv:
      return fout2 * l.in_channels * l.out_channels * l.kernel * l.kernel;
    case layer_kind::mbconv: {
      i64 m = 0;
      if (l.expand != 1) m += fin2 * l.in_channels * l.mid_channels;
      m += fout2 * l.mid_channels * l.kernel * l.kernel;
      m += i64(2) * l.mid_channels * l.se_channels;
      m += fout2 * l.mid_channels * l.out_channels;
      return m;
    }
    case layer_kind::final_expand:
      return fout2 * l.in_channels * l.out_channels;
    case layer_kind::feature_mix:
    case layer_kind::classifier:
      return i64(l.in_channels) * l.out_channels;
    default:
      return 0;
  }
}

/// Parameters of one layer (see the file comment for what counts).
inline std::int64_t layer_params(const layer_info& l) {
  using i64 = std::int64_t;
  switch (l.kind) {
    case layer_kind::first_conv:
      return i64(l.in_channels) * l.out_channels * l.kernel * l.kernel + 2 * l.out_channels;
    case layer_kind::mbconv: {
      i64 n = 0;
      if (l.expand != 1) n += i64(l.in_channels) * l.mid_channels + 2 * l.mid_channels;
      n += i64(l.mid_channels) * l.kernel * l.kernel + 2 * l.mid_channels;
      if (l.se_channels > 0)
        n += 2 * i64(l.mid_channels) * l.se_channels + l.se_channels + l.mid_channels;
      n += i64(l.mid_channels) * l.out_channels + 2 * l.out_channels;
      return n;
    }
    case layer_kind::final_expand:
      return i64(l.in_channels) * l.out_channels + 2 * l.out_channels;
    case layer_kind::feature_mix:
      return i64(l.in_channels) * l.out_channels;
    case layer_kind::classifier:
      return i64(l.in_channels) * l.out_channels + l.out_channels;
    default:
      return 0;
  }
}

/// MACs of subnet `cfg` of supernet `p` at resolution cfg.r; config_error when `cfg` is not a
/// subnet of `p`.
inline std::int64_t count_macs(const supernet_config& p, const subnet_config& cfg) {
  std::int64_t m = 0;
  for (const auto& l : describe_layers(p, cfg)) m += layer_macs(l);
  return m;
}

/// Parameters of subnet `cfg` of supernet `p` (resolution-independent).
inline std::int64_t count_params(const supernet_config& p, const subnet_config& cfg) {
  std::int64_t n = 0;
  for (const auto& l : describe_layers(p, cfg)) n += layer_params(l);
  return n;
}

/// MACs of a NAT subnet of the OFA supernet selected by cfg.w (1.0 or 1.2), 1000 classes.
inline std::int64_t count_macs(const subnet_config& cfg) {
  return count_macs(ofa_preset_for(cfg), cfg);
}

/// Parameters of a NAT subnet of the OFA supernet selected by cfg.w (1.0 or 1.2), 1000 classes.
inline std::int64_t count_params(const subnet_config& cfg) {
  return count_params(ofa_preset_for(cfg), cfg);
}

}  // namespace nat::elastic
