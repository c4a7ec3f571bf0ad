#pragma once
/// \file One subnet of a supernet as a self-contained directory, and back.
///
/// `DIR/` holds `weights.safetensors` (the extracted static network's state_dict, OFA's static
/// names), `subnet.json` (NAT's `{"r","w","ks","e","d"}` plus the supernet preset, classes, input
/// channels and, where the preset has a NAT search space, the `net.encoding` text), `net.config`
/// (OFA's `get_active_net_config()` JSON, ofa_spec §6, so OFA/NAT users can rebuild the network in
/// PyTorch) and `info.json` (MACs, parameters and any metrics the caller measured). HA-NAT ships
/// its searched subnets the same way (`net.config`, `net.subnet`, `net.encoding`).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/elastic/count.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/elastic/supernet_config.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/nn/mobilenet_v3.hpp"
#include "nat/search/mbv3_space.hpp"

namespace nat::transfer {

/// What an exported subnet is besides its weights (subnet.json and info.json).
struct exported_subnet_info {
  std::string preset;    ///< supernet layout name (elastic::preset)
  int n_classes = 0;     ///< classifier outputs
  int in_channels = 0;   ///< image channels
  subnet_config config;  ///< {r, w, ks, e, d}
  std::string encoding;  ///< NAT's net.encoding text; empty when the preset's space lacks one
  std::int64_t macs = 0;
  std::int64_t params = 0;
  std::map<std::string, double> metrics;  ///< e.g. val_acc, test_acc (info.json)
};

/// A loaded exported subnet: the ready static network (eval mode) and its description.
template <class T>
struct basic_loaded_subnet {
  std::unique_ptr<nn::basic_mobilenet_v3<T>> net;
  exported_subnet_info info;
};
/// Single-precision loaded subnet.
using loaded_subnet = basic_loaded_subnet<float>;

/// NAT's net.encoding of `cfg` for the supernet `layout`, or "" when the preset has no NAT space
/// or `cfg` lies outside it (e.g. an OFA subnet at r = 128, below NAT's 192..256).
inline std::string nat_encoding_for(const elastic::supernet_config& layout,
                                    const subnet_config& cfg) {
  try {
    if (layout.name == "mbv3_small") return search::nat_mbv3_small_space{}.encoding_of(cfg);
    if (layout.name.rfind("ofa_mbv3_w1", 0) == 0) return search::nat_mbv3_space{}.encoding_of(cfg);
  } catch (const config_error&) {
  }
  return "";
}

/// OFA's `net.config` of a static MobileNetV3 (ofa_spec §6, `MobileNetV3.config`): the layer
/// dictionaries of OFA's ConvLayer, MBConvLayer, ResidualBlock, IdentityLayer and LinearLayer.
template <class T>
json::value ofa_net_config(const nn::basic_mobilenet_v3<T>& net) {
  const auto& s = net.spec();
  auto conv = [](std::size_t in, std::size_t out, int k, std::size_t stride, bool bn,
                 nn::activation act) {
    json::value c;
    c["name"] = "ConvLayer";
    c["in_channels"] = in;
    c["out_channels"] = out;
    c["kernel_size"] = k;
    c["stride"] = stride;
    c["dilation"] = 1;
    c["groups"] = 1;
    c["bias"] = false;
    c["has_shuffle"] = false;
    c["use_se"] = false;
    c["use_bn"] = bn;
    c["act_func"] = act == nn::activation::none ? json::value() : json::value(nn::to_string(act));
    c["dropout_rate"] = 0;
    c["ops_order"] = "weight_bn_act";
    return c;
  };
  json::value v;
  v["name"] = "MobileNetV3";
  json::value bn;
  bn["momentum"] = s.bn_momentum;
  bn["eps"] = s.bn_eps;
  bn["ws_eps"] = json::value();
  v["bn"] = bn;
  v["first_conv"] =
      conv(s.in_channels, s.first_conv_channels, 3, s.first_conv_stride, true, s.first_conv_act);
  json::array blocks;
  for (const auto& b : s.blocks) {
    const auto& c = b.conv;
    json::value m;
    m["name"] = "MBConvLayer";
    m["in_channels"] = c.in_channels;
    m["out_channels"] = c.out_channels;
    m["kernel_size"] = c.kernels.back();
    m["stride"] = c.stride;
    m["expand_ratio"] = c.expands.back();
    m["mid_channels"] = nn::mbconv_spec::mid(c.in_channels, c.expands.back());
    m["act_func"] = nn::to_string(c.act);
    m["use_se"] = c.use_se;
    m["groups"] = json::value();
    json::value blk;
    blk["name"] = "ResidualBlock";
    blk["conv"] = m;
    if (b.identity_shortcut) {
      json::value id;
      id["name"] = "IdentityLayer";
      id["in_channels"] = c.out_channels;
      id["out_channels"] = c.out_channels;
      id["use_bn"] = false;
      id["act_func"] = json::value();
      id["dropout_rate"] = 0;
      id["ops_order"] = "weight_bn_act";
      blk["shortcut"] = id;
    } else {
      blk["shortcut"] = json::value();
    }
    blocks.push_back(blk);
  }
  v["blocks"] = blocks;
  const std::size_t last =
      s.blocks.empty() ? s.first_conv_channels : s.blocks.back().conv.out_channels;
  v["final_expand_layer"] = conv(last, s.final_expand_channels, 1, 1, true, s.head_act);
  v["feature_mix_layer"] =
      conv(s.final_expand_channels, s.feature_mix_channels, 1, 1, false, s.head_act);
  json::value cls;
  cls["name"] = "LinearLayer";
  cls["in_features"] = s.feature_mix_channels;
  cls["out_features"] = s.n_classes;
  cls["bias"] = true;
  cls["use_bn"] = false;
  cls["act_func"] = json::value();
  cls["dropout_rate"] = net.dropout_rate;
  cls["ops_order"] = "weight_bn_act";
  v["classifier"] = cls;
  return v;
}

/// Writes the static network `net` (the subnet `info.config` of the layout `layout`, extracted
/// from its supernet) to `dir` (created when missing). `info.macs`, `info.params`, `info.preset`,
/// `info.n_classes`, `info.in_channels` and `info.encoding` are filled in from `layout`;
/// `info.metrics` are written as given. Every file is written atomically.
template <class T>
void save_subnet(const std::string& dir, const nn::basic_mobilenet_v3<T>& net,
                 const elastic::supernet_config& layout, exported_subnet_info info) {
  layout.check(info.config, "save_subnet");
  if (net.spec().n_classes != std::size_t(layout.n_classes) ||
      net.spec().in_channels != std::size_t(layout.in_channels))
    throw config_error("save_subnet: the network has " + std::to_string(net.spec().in_channels) +
                       " input channels and " + std::to_string(net.spec().n_classes) +
                       " classes, the layout " + layout.name + " " +
                       std::to_string(layout.in_channels) + " and " +
                       std::to_string(layout.n_classes));
  info.preset = layout.name;
  info.n_classes = layout.n_classes;
  info.in_channels = layout.in_channels;
  info.encoding = nat_encoding_for(layout, info.config);
  info.macs = elastic::count_macs(layout, info.config);
  info.params = elastic::count_params(layout, info.config);
  make_dirs(dir);
  io::save_safetensors<T>(dir + "/weights.safetensors", net.state_dict(),
                          {{"format", "nat-subnet"}, {"preset", info.preset}});
  json::value sub = to_json(info.config);
  sub["preset"] = info.preset;
  sub["n_classes"] = info.n_classes;
  sub["in_channels"] = info.in_channels;
  if (!info.encoding.empty()) sub["encoding"] = info.encoding;
  write_file_atomic(dir + "/subnet.json", sub.dump(2) + "\n");
  write_file_atomic(dir + "/net.config", ofa_net_config(net).dump(2) + "\n");
  json::value inf;
  inf["macs"] = info.macs;
  inf["params"] = info.params;
  for (const auto& [k, x] : info.metrics) inf[k] = x;
  write_file_atomic(dir + "/info.json", inf.dump(2) + "\n");
}

/// Exports the subnet `cfg` of `supernet` to `dir` (see the file comment) with `metrics` in
/// info.json. The supernet's active subnet is restored afterwards.
template <class T>
void export_subnet(const std::string& dir, elastic::basic_supernet<T>& supernet,
                   const subnet_config& cfg, const std::map<std::string, double>& metrics = {}) {
  const subnet_config before = supernet.active();
  supernet.set_active(cfg);
  std::unique_ptr<nn::basic_mobilenet_v3<T>> net;
  try {
    net = supernet.extract();
  } catch (...) {
    supernet.set_active(before);
    throw;
  }
  supernet.set_active(before);
  exported_subnet_info info;
  info.config = cfg;
  info.metrics = metrics;
  save_subnet(dir, *net, supernet.config(), std::move(info));
}

namespace detail {

// Parses the JSON file `path`; io_error naming it when missing or not valid JSON.
inline json::value read_json_file(const std::string& path, const char* who) {
  if (!file_exists(path))
    throw io_error(std::string(who) + ": " + path + " is missing (not an exported subnet?)");
  try {
    return json::parse(read_file(path));
  } catch (const error& e) {
    throw io_error(std::string(who) + ": " + path + " is not valid JSON: " + e.what());
  }
}

}  // namespace detail

/// Reads subnet.json and info.json of an exported subnet (no weights). io_error for a missing or
/// corrupt file, config_error for missing or wrong fields, each naming the file.
inline exported_subnet_info read_exported_subnet_info(const std::string& dir) {
  const char* who = "read_exported_subnet_info";
  exported_subnet_info info;
  const std::string sub_path = dir + "/subnet.json";
  const json::value sub = detail::read_json_file(sub_path, who);
  try {
    info.config = subnet_config_from_json(sub);
    info.preset = sub.at("preset").as_string();
    info.n_classes = static_cast<int>(sub.at("n_classes").as_int());
    info.in_channels = static_cast<int>(sub.at("in_channels").as_int());
    if (sub.contains("encoding")) info.encoding = sub.at("encoding").as_string();
  } catch (const error& e) {
    throw config_error(std::string(who) + ": " + sub_path + ": " + e.what());
  }
  const std::string info_path = dir + "/info.json";
  if (file_exists(info_path)) {
    const json::value inf = detail::read_json_file(info_path, who);
    try {
      for (const auto& [k, x] : inf.as_object()) {
        if (k == "macs")
          info.macs = static_cast<std::int64_t>(x.as_number());
        else if (k == "params")
          info.params = static_cast<std::int64_t>(x.as_number());
        else if (x.is_number())
          info.metrics[k] = x.as_number();
      }
    } catch (const error& e) {
      throw config_error(std::string(who) + ": " + info_path + ": " + e.what());
    }
  }
  return info;
}

/// Loads an exported subnet whose supernet layout is `layout` (for layouts that are not presets):
/// rebuilds the static network of subnet.json and loads weights.safetensors into it, all or
/// nothing (a config_error lists missing, unexpected and wrongly shaped tensors). When net.config
/// is present it must describe the same network. The network is returned in eval mode.
template <class T = float>
basic_loaded_subnet<T> load_exported_subnet(const std::string& dir,
                                            elastic::supernet_config layout) {
  const char* who = "load_exported_subnet";
  basic_loaded_subnet<T> out;
  out.info = read_exported_subnet_info(dir);
  const std::string sub_path = dir + "/subnet.json";
  if (out.info.preset != layout.name)
    throw config_error(std::string(who) + ": " + sub_path + " names supernet \"" + out.info.preset +
                       "\", the given layout is \"" + layout.name + "\"");
  layout.n_classes = out.info.n_classes;
  layout.in_channels = out.info.in_channels;
  layout.validate();
  try {
    layout.check(out.info.config, who);
  } catch (const config_error& e) {
    throw config_error(sub_path + ": " + e.what());
  }
  // The static structure comes from the supernet's own extraction, so it cannot drift from what
  // export_subnet wrote. Weights are overwritten by the file; the supernet's seed is irrelevant.
  elastic::basic_supernet<T> supernet(layout, 0);
  supernet.set_active(out.info.config);
  out.net = supernet.extract();
  const std::string weights = dir + "/weights.safetensors";
  if (!file_exists(weights)) throw io_error(std::string(who) + ": " + weights + " is missing");
  io::load_safetensors_into<T>(weights, out.net->state_dict());
  const std::string cfg_path = dir + "/net.config";
  if (file_exists(cfg_path)) {
    const json::value given = detail::read_json_file(cfg_path, who);
    // The classifier's dropout is a training setting a run may have changed from the preset's;
    // take it from the file rather than calling the two networks different.
    try {
      out.net->dropout_rate = given.at("classifier").at("dropout_rate").as_number();
    } catch (const error& e) {
      throw config_error(std::string(who) + ": " + cfg_path + ": " + e.what());
    }
    if (given.dump() != ofa_net_config(*out.net).dump())
      throw config_error(std::string(who) + ": " + cfg_path +
                         " does not describe the network of subnet.json");
  }
  if (out.info.macs == 0) out.info.macs = elastic::count_macs(layout, out.info.config);
  if (out.info.params == 0) out.info.params = elastic::count_params(layout, out.info.config);
  out.net->eval();
  return out;
}

/// Loads an exported subnet of a preset supernet (elastic::preset(subnet.json's "preset")).
template <class T = float>
basic_loaded_subnet<T> load_exported_subnet(const std::string& dir) {
  const auto info = read_exported_subnet_info(dir);
  elastic::supernet_config layout;
  try {
    layout = elastic::preset(info.preset, info.n_classes, info.in_channels);
  } catch (const config_error& e) {
    throw config_error("load_exported_subnet: " + dir + "/subnet.json: " + e.what() +
                       " (pass the layout for a custom supernet)");
  }
  return load_exported_subnet<T>(dir, layout);
}

}  // namespace nat::transfer
