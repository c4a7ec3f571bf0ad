#pragma once
/// \file Per-layer latency lookup table (nat_spec §6, OFA `MBv3LatencyTable`, ofa_spec §7) and
/// a median-of-runs latency measurement.
///
/// A subnet's predicted latency is the sum of its layers' mean latencies, each looked up by a key
/// that names the layer's type and shapes. Keys follow NAT's CPU table (nat_spec §6):
/// `first_conv-input:HxWxC-output:HxWxC`,
/// `MBConv-input:HxWxC-output:HxWxC-expand:E-kernel:K-stride:S-idskip:{0,1}-se:{0,1}` (E = expand
/// ratio; blocks[0] is `expand:1`), `final_expand_layer-input:…-output:…`,
/// `feature_mix_layer-input:1x1xC-output:1x1xC`, `classifier-input:C-output:N`. Global pooling
/// has no entry (as in NAT's table). Entries store `{count, mean, var}` in milliseconds like OFA's
/// YAML; the file is JSON.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/core/timer.hpp"
#include "nat/elastic/layers.hpp"
#include "nat/elastic/supernet_config.hpp"

namespace nat::elastic {

/// Key of `l` in a latency table; empty for layers without an entry (global pooling).
inline std::string latency_key(const layer_info& l) {
  auto hwc = [](int s, int c) {
    return std::to_string(s) + "x" + std::to_string(s) + "x" + std::to_string(c);
  };
  const std::string io =
      "-input:" + hwc(l.in_size, l.in_channels) + "-output:" + hwc(l.out_size, l.out_channels);
  switch (l.kind) {
    case layer_kind::first_conv:
      return "first_conv" + io;
    case layer_kind::mbconv:
      return "MBConv" + io + "-expand:" + std::to_string(l.expand) +
             "-kernel:" + std::to_string(l.kernel) + "-stride:" + std::to_string(l.stride) +
             "-idskip:" + (l.identity_skip ? "1" : "0") + "-se:" + (l.se_channels > 0 ? "1" : "0");
    case layer_kind::final_expand:
      return "final_expand_layer" + io;
    case layer_kind::feature_mix:
      return "feature_mix_layer" + io;
    case layer_kind::classifier:
      return "classifier-input:" + std::to_string(l.in_channels) +
             "-output:" + std::to_string(l.out_channels);
    default:
      return {};
  }
}

/// One table entry: number of measurements, mean and variance of the latency in milliseconds.
struct latency_entry {
  std::size_t count = 0;
  double mean = 0;
  double var = 0;
};

/// Median wall time in milliseconds of `fn` over `runs` calls after `warmup` untimed calls
/// (OFA's `measure_net_latency` uses 50 + 50; the median resists scheduler noise on shared CPUs).
template <class Fn>
double measure_latency_ms(Fn&& fn, int warmup = 10, int runs = 30) {
  if (runs < 1)
    throw config_error("measure_latency_ms: runs must be >= 1, got " + std::to_string(runs));
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t(static_cast<std::size_t>(runs));
  for (auto& x : t) {
    nat::timer clock;
    fn();
    x = clock.seconds() * 1e3;
  }
  std::sort(t.begin(), t.end());
  const std::size_t n = t.size();
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/// Latency lookup table: key → {count, mean, var} (ms).
class latency_table {
 public:
  /// Adds (or replaces) the entry of `key` from raw measurements in ms.
  void add(const std::string& key, const std::vector<double>& samples_ms) {
    if (samples_ms.empty()) throw config_error("latency_table::add: no samples for " + key);
    latency_entry e;
    e.count = samples_ms.size();
    for (double x : samples_ms) e.mean += x;
    e.mean /= static_cast<double>(e.count);
    for (double x : samples_ms) e.var += (x - e.mean) * (x - e.mean);
    e.var /= static_cast<double>(e.count);
    entries_[key] = e;
  }
  /// Sets an entry directly.
  void set(const std::string& key, const latency_entry& e) { entries_[key] = e; }
  /// True when `key` has an entry.
  bool contains(const std::string& key) const { return entries_.count(key) != 0; }
  /// Mean latency (ms) of `key`; config_error naming the key when the table lacks it.
  double query(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end())
      throw config_error("latency_table::query: no entry for \"" + key +
                         "\" (build the table for this preset and resolution)");
    return it->second.mean;
  }
  /// Predicted latency (ms) of subnet `cfg` of `p`: the sum of its layers' entries.
  double predict(const supernet_config& p, const subnet_config& cfg) const {
    double ms = 0;
    for (const auto& l : describe_layers(p, cfg)) {
      const std::string k = latency_key(l);
      if (!k.empty()) ms += query(k);
    }
    return ms;
  }
  /// Number of entries.
  std::size_t size() const { return entries_.size(); }
  /// All entries, sorted by key.
  const std::map<std::string, latency_entry>& entries() const { return entries_; }

  /// `{key: {"count","mean","var"}}`.
  json::value to_json() const {
    json::value v = json::object{};
    for (const auto& [k, e] : entries_) {
      json::value x;
      x["count"] = e.count;
      x["mean"] = e.mean;
      x["var"] = e.var;
      v[k] = x;
    }
    return v;
  }
  /// Reads to_json's format; config_error on malformed entries.
  static latency_table from_json(const json::value& v) {
    if (!v.is_object()) throw config_error("latency_table::from_json: expected a JSON object");
    latency_table t;
    for (const auto& [k, x] : v.as_object()) {
      latency_entry e;
      e.count = static_cast<std::size_t>(x.at("count").as_int());
      e.mean = x.at("mean").as_number();
      e.var = x.contains("var") ? x.at("var").as_number() : 0.0;
      t.entries_[k] = e;
    }
    return t;
  }
  /// Writes the table as JSON, atomically.
  void save(const std::string& path) const { write_file_atomic(path, to_json().dump(1) + "\n"); }
  /// Reads a table written by save(); io_error / config_error naming the path.
  static latency_table load(const std::string& path) {
    try {
      return from_json(json::parse(read_file(path)));
    } catch (const config_error& e) {
      throw config_error("latency_table::load(" + path + "): " + e.what());
    }
  }

 private:
  std::map<std::string, latency_entry> entries_;
};

/// Every distinct layer any subnet of `p` runs at the given resolutions (each key once), so a
/// table built from them answers every query for those resolutions.
inline std::vector<layer_info> distinct_layers(const supernet_config& p,
                                               const std::vector<int>& resolutions) {
  std::vector<layer_info> out;
  std::set<std::string> seen;
  auto push = [&](const layer_info& l) {
    const std::string k = latency_key(l);
    if (!k.empty() && seen.insert(k).second) out.push_back(l);
  };
  for (int r : resolutions) {
    // The largest subnet walks every stage at full depth; shapes do not depend on k or e, so
    // swapping each layer's (k, e) over the choices covers every MBConv key.
    const subnet_config big = p.largest(r);
    const auto layers = describe_layers(p, big);
    for (const auto& l : layers) {
      if (l.kind != layer_kind::mbconv || l.stage < 0) {
        push(l);
        continue;
      }
      for (int k : p.kernel_list)
        for (int e : p.expand_list) {
          layer_info v = l;
          v.kernel = k;
          v.expand = e;
          v.mid_channels = middle_channels(l.in_channels, e);
          v.se_channels =
              p.stages[static_cast<std::size_t>(l.stage)].use_se ? se_channels(v.mid_channels) : 0;
          push(v);
        }
    }
  }
  return out;
}

/// Builds a table by calling `measure(layer)` (→ samples in ms) for each distinct layer of `p` at
/// `resolutions`.
inline latency_table build_latency_table(
    const supernet_config& p, const std::vector<int>& resolutions,
    const std::function<std::vector<double>(const layer_info&)>& measure) {
  latency_table t;
  for (const auto& l : distinct_layers(p, resolutions)) t.add(latency_key(l), measure(l));
  return t;
}

}  // namespace nat::elastic
