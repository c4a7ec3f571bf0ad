#pragma once
/// \file A MobileNetV3 search space whose choices are read at run time (from a config file or a
/// preset name), with the same interface as the compile-time `mbv3_space`.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/json.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/search/detail/mbv3_genome.hpp"
#include "nat/search/detail/mbv3_interface.hpp"
#include "nat/search/genome.hpp"
#include "nat/search/mbv3_space.hpp"

namespace nat::search {

/// The phenotype a genome decodes to (`{r, w, ks, e, d}`), shared with nat::elastic.
using subnet_config = nat::subnet_config;

/// NAT's MobileNetV3 genome (nat_spec §1) over choice lists given at run time.
class dynamic_mbv3_space : public detail::mbv3_interface<dynamic_mbv3_space> {
 public:
  /// Checks the lists (non-empty, positive, strictly ascending; kernels odd; 1 <= min_depth <=
  /// max_depth; n_stages >= 1) and throws config_error naming the first bad one.
  dynamic_mbv3_space(std::vector<int> resolutions, std::vector<double> widths,
                     std::vector<int> kernels = {3, 5, 7}, std::vector<int> expands = {3, 4, 6},
                     std::size_t n_stages = 5, std::size_t max_depth = 4, std::size_t min_depth = 2,
                     std::string name = "dynamic_mbv3_space")
      : name_(std::move(name)),
        res_(std::move(resolutions)),
        w_(std::move(widths)),
        k_(std::move(kernels)),
        e_(std::move(expands)),
        n_stages_(n_stages),
        max_depth_(max_depth),
        min_depth_(min_depth) {
    const std::string who = "dynamic_mbv3_space(" + name_ + ")";
    auto ascending = [&](const std::vector<int>& v, const char* what) {
      if (v.empty()) throw config_error(who + ": " + what + " list is empty");
      for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] <= 0 || (i > 0 && v[i] <= v[i - 1]))
          throw config_error(who + ": " + what +
                             " list must be positive and strictly ascending, got " +
                             detail::int_list_text(v.data(), v.size()));
    };
    ascending(res_, "resolution");
    ascending(k_, "kernel");
    ascending(e_, "expand");
    for (int k : k_)
      if (k % 2 == 0)
        throw config_error(who + ": kernel sizes must be odd, got " + std::to_string(k));
    if (w_.empty()) throw config_error(who + ": width list is empty");
    for (std::size_t i = 0; i < w_.size(); ++i)
      if (!std::isfinite(w_[i]) || w_[i] <= 0 || (i > 0 && w_[i] <= w_[i - 1]))
        throw config_error(who + ": widths must be positive, finite and strictly ascending");
    if (n_stages_ == 0) throw config_error(who + ": needs at least one stage");
    if (min_depth_ < 1 || min_depth_ > max_depth_)
      throw config_error(who + ": need 1 <= min_depth <= max_depth, got " +
                         std::to_string(min_depth_) + " and " + std::to_string(max_depth_));
  }

  /// The run-time copy of a compile-time space (same choices, same genome).
  template <class R, class W, class K, class E, std::size_t S, std::size_t Max, std::size_t Min>
  explicit dynamic_mbv3_space(const mbv3_space<R, W, K, E, S, Max, Min>& s)
      : dynamic_mbv3_space(s.resolutions(), s.widths(), s.kernels(), s.expands(), S, Max, Min,
                           s.name()) {}

  /// The run-time view of this space (used by the shared implementation).
  detail::mbv3_layout layout() const {
    return {name_.c_str(), res_.data(), res_.size(), w_.data(), w_.size(),  k_.data(),
            k_.size(),     e_.data(),   e_.size(),   n_stages_, max_depth_, min_depth_};
  }

  /// The choices as JSON: {"name", "resolutions", "widths", "kernels", "expands", "n_stages",
  /// "max_depth", "min_depth"}.
  json::value to_json() const {
    json::value v;
    v["name"] = name_;
    v["resolutions"] = res_;
    v["widths"] = w_;
    v["kernels"] = k_;
    v["expands"] = e_;
    v["n_stages"] = n_stages_;
    v["max_depth"] = max_depth_;
    v["min_depth"] = min_depth_;
    return v;
  }

 private:
  std::string name_;
  std::vector<int> res_;
  std::vector<double> w_;
  std::vector<int> k_, e_;
  std::size_t n_stages_, max_depth_, min_depth_;
};

/// Reads to_json's object; missing kernels/expands/n_stages/max_depth/min_depth take NAT's values.
/// config_error for a non-object, a missing resolutions/widths list, or invalid choices.
inline dynamic_mbv3_space dynamic_mbv3_space_from_json(const json::value& v) {
  if (!v.is_object()) throw config_error("dynamic_mbv3_space_from_json: expected a JSON object");
  auto ints = [&](const char* key, std::vector<int> def) {
    if (!v.contains(key)) return def;
    std::vector<int> out;
    for (const auto& x : v.at(key).as_array()) out.push_back(static_cast<int>(x.as_int()));
    return out;
  };
  auto size = [&](const char* key, std::size_t def) {
    if (!v.contains(key)) return def;
    const auto x = v.at(key).as_int();
    if (x < 0)
      throw config_error(std::string("dynamic_mbv3_space_from_json: ") + key +
                         " must be non-negative");
    return static_cast<std::size_t>(x);
  };
  if (!v.contains("resolutions") || !v.contains("widths"))
    throw config_error("dynamic_mbv3_space_from_json: \"resolutions\" and \"widths\" are required");
  std::vector<double> w;
  for (const auto& x : v.at("widths").as_array()) w.push_back(x.as_number());
  return dynamic_mbv3_space(ints("resolutions", {}), w, ints("kernels", {3, 5, 7}),
                            ints("expands", {3, 4, 6}), size("n_stages", 5), size("max_depth", 4),
                            size("min_depth", 2),
                            v.contains("name") ? v.at("name").as_string() : "dynamic_mbv3_space");
}

/// A preset space by name: "nat_mbv3" (nat_mbv3_space) or "small" / "nat_mbv3_small"
/// (nat_mbv3_small_space); config_error listing the known names otherwise.
inline dynamic_mbv3_space make_space(const std::string& name) {
  if (name == "nat_mbv3") return dynamic_mbv3_space(nat_mbv3_space{});
  if (name == "small" || name == "nat_mbv3_small")
    return dynamic_mbv3_space(nat_mbv3_small_space{});
  throw config_error("make_space: unknown search space \"" + name +
                     "\"; expected nat_mbv3, nat_mbv3_small or small");
}

}  // namespace nat::search
