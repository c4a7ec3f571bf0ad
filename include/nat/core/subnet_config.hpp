#pragma once
/// \file The phenotype of one subnet of an elastic MobileNetV3 space: NAT's
/// `{"r","w","ks","e","d"}`.
///
/// It sits in core because both the search layer (genome decode) and the elastic supernet read it,
/// and DESIGN.md keeps search independent of tensors; `nat::elastic::subnet_config` and
/// `nat::search::subnet_config` name this same type.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/json.hpp"

namespace nat {

/// One subnet: input resolution, width multiplier, and per active layer kernel size and expand
/// ratio
/// (`ks`, `e` hold sum(d) entries, stage by stage), and the depth of each stage.
struct subnet_config {
  int r = 224;          ///< input resolution in pixels
  double w = 1.0;       ///< width multiplier (selects the supernet engine)
  std::vector<int> ks;  ///< kernel size of each active layer
  std::vector<int> e;   ///< expand ratio of each active layer
  std::vector<int> d;   ///< number of active layers per stage

  /// Number of active layers, sum(d).
  std::size_t n_layers() const {
    std::size_t n = 0;
    for (int x : d) n += static_cast<std::size_t>(x < 0 ? 0 : x);
    return n;
  }

  /// Structural consistency (sizes agree, positive values); preset-specific ranges are checked by
  /// the supernet and the search space.
  void validate(const char* who = "subnet_config") const {
    auto fail = [&](const std::string& m) { throw config_error(std::string(who) + ": " + m); };
    if (r <= 0) fail("resolution must be positive, got " + std::to_string(r));
    if (!(w > 0) || !std::isfinite(w)) fail("width multiplier must be positive");
    if (d.empty()) fail("d (depth per stage) is empty");
    for (int x : d)
      if (x <= 0) fail("every stage depth must be positive, got " + std::to_string(x));
    if (ks.size() != n_layers() || e.size() != n_layers())
      fail("ks and e need sum(d) = " + std::to_string(n_layers()) + " entries, got " +
           std::to_string(ks.size()) + " and " + std::to_string(e.size()));
    for (int k : ks)
      if (k <= 0 || k % 2 == 0)
        fail("kernel sizes must be odd and positive, got " + std::to_string(k));
    for (int x : e)
      if (x <= 0) fail("expand ratios must be positive, got " + std::to_string(x));
  }

  friend bool operator==(const subnet_config& a, const subnet_config& b) {
    return a.r == b.r && a.w == b.w && a.ks == b.ks && a.e == b.e && a.d == b.d;
  }
  friend bool operator!=(const subnet_config& a, const subnet_config& b) { return !(a == b); }
};

/// JSON object as in NAT's `net.subnet` files: {"r": 224, "w": 1.0, "ks": [...], "e": [...], "d":
/// [...]}.
inline json::value to_json(const subnet_config& c) {
  json::value v;
  v["r"] = c.r;
  v["w"] = c.w;
  v["ks"] = c.ks;
  v["e"] = c.e;
  v["d"] = c.d;
  return v;
}

/// Reads the JSON of to_json (or a net.subnet file's text); config_error naming what is missing or
/// wrong.
inline subnet_config subnet_config_from_json(const json::value& v) {
  subnet_config c;
  auto ints = [&](const char* key) {
    std::vector<int> out;
    for (const auto& x : v.at(key).as_array()) out.push_back(static_cast<int>(x.as_int()));
    return out;
  };
  if (!v.is_object()) throw config_error("subnet_config_from_json: expected a JSON object");
  c.r = static_cast<int>(v.at("r").as_int());
  c.w = v.contains("w") ? v.at("w").as_number() : 1.0;
  c.ks = ints("ks");
  c.e = ints("e");
  c.d = ints("d");
  c.validate("subnet_config_from_json");
  return c;
}

/// Parses JSON text into a subnet_config.
inline subnet_config parse_subnet_config(const std::string& text) {
  return subnet_config_from_json(json::parse(text));
}

}  // namespace nat
