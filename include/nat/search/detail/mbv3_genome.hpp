#pragma once
/// \file Shared implementation of the MobileNetV3 genome (nat_spec §1) behind both the
/// compile-time `mbv3_space` and the run-time `dynamic_mbv3_space`: one code path, so the two
/// cannot drift apart. Not public API.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/search/genome.hpp"

namespace nat::search::detail {

// Views of a space's choice lists; both space classes build one on the fly (cheap: pointers).
struct mbv3_layout {
  const char* name;
  const int* res;
  std::size_t n_res;
  const double* widths;
  std::size_t n_w;
  const int* kernels;
  std::size_t n_k;
  const int* expands;
  std::size_t n_e;
  std::size_t n_stages;
  std::size_t max_depth;
  std::size_t min_depth;

  std::size_t n_var() const { return 2 + n_stages * max_depth; }
  // Number of (kernel, expand) pairs = largest layer gene.
  int n_layer_choices() const { return static_cast<int>(n_k * n_e); }
  // Gene bounds: resolution index, width index, then per stage min_depth mandatory layer genes
  // (1..m) followed by optional ones (0 = skip).
  int lower(std::size_t i) const {
    if (i < 2) return 0;
    return (i - 2) % max_depth < min_depth ? 1 : 0;
  }
  int upper(std::size_t i) const {
    if (i == 0) return static_cast<int>(n_res) - 1;
    if (i == 1) return static_cast<int>(n_w) - 1;
    return n_layer_choices();
  }
  std::string who(const char* fn) const { return std::string(name) + "::" + fn; }
};

inline std::string int_list_text(const int* v, std::size_t n) {
  std::string s = "{";
  for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "}";
}

inline std::string width_text(double w) {
  std::string s = std::to_string(w);
  while (s.size() > 3 && s.back() == '0') s.pop_back();
  return s;
}

inline void check_length(const mbv3_layout& L, const genome& g, const char* fn) {
  if (g.size() != L.n_var())
    throw config_error(L.who(fn) + ": genome must have " + std::to_string(L.n_var()) +
                       " genes, got " + std::to_string(g.size()));
}

// The one repair (nat_spec §9): clip every gene into its range, then per stage move the skipped
// layers (0) behind the active ones keeping the active ones' order, then raise mandatory slots that
// are still 0 to the smallest layer (1). Clipping before pushing keeps a stray 0 in a mandatory
// slot from erasing a layer the operator meant to keep. The result is canonical: repaired genomes
// and phenotypes correspond one to one, which is what makes dedup on decoded configs sound.
inline genome repair(const mbv3_layout& L, genome g) {
  check_length(L, g, "repair");
  g[0] = std::clamp(g[0], 0, L.upper(0));
  g[1] = std::clamp(g[1], 0, L.upper(1));
  const int m = L.n_layer_choices();
  for (std::size_t s = 0; s < L.n_stages; ++s) {
    int* b = g.data() + 2 + s * L.max_depth;
    for (std::size_t j = 0; j < L.max_depth; ++j) b[j] = std::clamp(b[j], 0, m);
    std::stable_partition(b, b + L.max_depth, [](int v) { return v != 0; });
    for (std::size_t j = 0; j < L.min_depth; ++j)
      if (b[j] == 0) b[j] = 1;
  }
  return g;
}

inline bool is_repaired(const mbv3_layout& L, const genome& g) { return repair(L, g) == g; }

// Layer gene v = 1 + n_k·e_idx + k_idx (nat_spec §1: 1 = (k3,e3), 2 = (k5,e3), ..., 9 = (k7,e6)).
inline subnet_config decode(const mbv3_layout& L, const genome& g0) {
  const genome g = repair(L, g0);
  subnet_config c;
  c.r = L.res[g[0]];
  c.w = L.widths[g[1]];
  c.d.reserve(L.n_stages);
  for (std::size_t s = 0; s < L.n_stages; ++s) {
    int d = 0;
    for (std::size_t j = 0; j < L.max_depth; ++j) {
      const int v = g[2 + s * L.max_depth + j];
      if (v == 0) break;  // repaired: the rest of the stage is skipped too
      ++d;
      const int k_idx = (v - 1) % static_cast<int>(L.n_k);
      const int e_idx = (v - 1) / static_cast<int>(L.n_k);
      c.ks.push_back(L.kernels[k_idx]);
      c.e.push_back(L.expands[e_idx]);
    }
    c.d.push_back(d);
  }
  return c;
}

inline int index_of(const int* v, std::size_t n, int x) {
  for (std::size_t i = 0; i < n; ++i)
    if (v[i] == x) return static_cast<int>(i);
  return -1;
}

inline genome encode(const mbv3_layout& L, const subnet_config& c) {
  const std::string who = L.who("encode");
  c.validate(who.c_str());
  auto fail = [&](const std::string& m) { throw config_error(who + ": " + m); };
  genome g(L.n_var(), 0);
  g[0] = index_of(L.res, L.n_res, c.r);
  if (g[0] < 0)
    fail("resolution " + std::to_string(c.r) + " is not one of " + int_list_text(L.res, L.n_res));
  g[1] = -1;
  for (std::size_t i = 0; i < L.n_w; ++i)
    if (std::fabs(c.w - L.widths[i]) <= 1e-9) g[1] = static_cast<int>(i);
  if (g[1] < 0) {
    std::string ws;
    for (std::size_t i = 0; i < L.n_w; ++i) ws += (i ? "," : "") + width_text(L.widths[i]);
    fail("width multiplier " + width_text(c.w) + " is not one of {" + ws + "}");
  }
  if (c.d.size() != L.n_stages)
    fail("d needs " + std::to_string(L.n_stages) + " stage depths, got " +
         std::to_string(c.d.size()));
  std::size_t layer = 0;
  for (std::size_t s = 0; s < L.n_stages; ++s) {
    const int d = c.d[s];
    if (d < static_cast<int>(L.min_depth) || d > static_cast<int>(L.max_depth))
      fail("depth " + std::to_string(d) + " of stage " + std::to_string(s) + " is not in " +
           std::to_string(L.min_depth) + ".." + std::to_string(L.max_depth));
    for (int j = 0; j < d; ++j, ++layer) {
      const int k_idx = index_of(L.kernels, L.n_k, c.ks[layer]);
      const int e_idx = index_of(L.expands, L.n_e, c.e[layer]);
      if (k_idx < 0)
        fail("kernel " + std::to_string(c.ks[layer]) + " of layer " + std::to_string(layer) +
             " is not in " + int_list_text(L.kernels, L.n_k));
      if (e_idx < 0)
        fail("expand ratio " + std::to_string(c.e[layer]) + " of layer " + std::to_string(layer) +
             " is not in " + int_list_text(L.expands, L.n_e));
      g[2 + s * L.max_depth + static_cast<std::size_t>(j)] =
          1 + static_cast<int>(L.n_k) * e_idx + k_idx;
    }
  }
  return g;
}

inline genome lower_genome(const mbv3_layout& L) {
  genome g(L.n_var());
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = L.lower(i);
  return g;
}

inline genome upper_genome(const mbv3_layout& L) {
  genome g(L.n_var());
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = L.upper(i);
  return g;
}

// MOEA's sampling (nat_spec §1): every gene uniform within its bounds, then the repair. Deeper
// stages are over-represented relative to the phenotype count; see sample_uniform_phenotype.
inline genome sample(const mbv3_layout& L, rng& gen) {
  genome g(L.n_var());
  for (std::size_t i = 0; i < g.size(); ++i)
    g[i] = static_cast<int>(gen.uniform_int(L.lower(i), L.upper(i)));
  return repair(L, std::move(g));
}

// Uniform over distinct architectures: depth d of a stage with probability m^d / sum_d' m^d',
// then each active layer uniform over the m (kernel, expand) pairs.
inline genome sample_uniform_phenotype(const mbv3_layout& L, rng& gen) {
  genome g(L.n_var(), 0);
  g[0] = static_cast<int>(gen.index(L.n_res));
  g[1] = static_cast<int>(gen.index(L.n_w));
  const double m = L.n_layer_choices();
  double total = 0;
  for (std::size_t d = L.min_depth; d <= L.max_depth; ++d) total += std::pow(m, double(d));
  for (std::size_t s = 0; s < L.n_stages; ++s) {
    double u = gen.uniform() * total;
    std::size_t depth = L.max_depth;
    for (std::size_t d = L.min_depth; d < L.max_depth; ++d) {
      u -= std::pow(m, double(d));
      if (u < 0) {
        depth = d;
        break;
      }
    }
    for (std::size_t j = 0; j < depth; ++j)
      g[2 + s * L.max_depth + j] = static_cast<int>(gen.uniform_int(1, L.n_layer_choices()));
  }
  return g;
}

inline std::size_t n_features(const mbv3_layout& L, feature_encoding enc) {
  if (enc == feature_encoding::compact) return L.n_var();
  std::size_t n = 0;
  for (std::size_t i = 0; i < L.n_var(); ++i)
    n += static_cast<std::size_t>(L.upper(i) - L.lower(i) + 1);
  return n;
}

// Features of the repaired genome, so that genomes of one phenotype get one feature vector.
inline std::vector<double> features(const mbv3_layout& L, const genome& g0, feature_encoding enc) {
  const genome g = repair(L, g0);
  std::vector<double> f;
  f.reserve(n_features(L, enc));
  for (std::size_t i = 0; i < g.size(); ++i) {
    const int lo = L.lower(i), hi = L.upper(i);
    if (enc == feature_encoding::compact) {
      f.push_back(hi == lo ? 0.0 : double(g[i] - lo) / double(hi - lo));
    } else {
      for (int c = lo; c <= hi; ++c) f.push_back(g[i] == c ? 1.0 : 0.0);
    }
  }
  return f;
}

inline double log10_size(const mbv3_layout& L) {
  const double m = L.n_layer_choices();
  double per_stage = 0;
  for (std::size_t d = L.min_depth; d <= L.max_depth; ++d) per_stage += std::pow(m, double(d));
  return std::log10(double(L.n_res)) + std::log10(double(L.n_w)) +
         double(L.n_stages) * std::log10(per_stage);
}

inline double log10_genotype_size(const mbv3_layout& L) {
  double s = 0;
  for (std::size_t i = 0; i < L.n_var(); ++i) s += std::log10(double(L.upper(i) - L.lower(i) + 1));
  return s;
}

// NAT's net.encoding text: 2-digit resolution index, 1-digit width index, one digit per layer gene.
inline void check_encodable(const mbv3_layout& L, const char* fn) {
  if (L.n_res > 100 || L.n_w > 10 || L.n_layer_choices() > 9)
    throw not_supported(L.who(fn) +
                        ": NAT's text encoding needs at most 100 resolutions, 10 widths and 9 "
                        "layer choices; this space has " +
                        std::to_string(L.n_res) + ", " + std::to_string(L.n_w) + " and " +
                        std::to_string(L.n_layer_choices()));
}

inline genome parse_encoding(const mbv3_layout& L, const std::string& s) {
  check_encodable(L, "parse_encoding");
  const std::string who = L.who("parse_encoding");
  const std::size_t n_layers = L.n_stages * L.max_depth;
  if (s.size() != 3 + n_layers)
    throw config_error(who + ": expected " + std::to_string(3 + n_layers) +
                       " characters (2 resolution digits, 1 width digit, " +
                       std::to_string(n_layers) + " layer digits), got " +
                       std::to_string(s.size()) + " in \"" + s + "\"");
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9')
      throw config_error(who + ": character " + std::to_string(i) + " of \"" + s +
                         "\" is not a digit");
  genome g(L.n_var());
  g[0] = (s[0] - '0') * 10 + (s[1] - '0');
  g[1] = s[2] - '0';
  for (std::size_t i = 0; i < n_layers; ++i) g[2 + i] = s[3 + i] - '0';
  if (g[0] > L.upper(0))
    throw config_error(who + ": resolution index " + std::to_string(g[0]) + " is out of range 0.." +
                       std::to_string(L.upper(0)) + " in \"" + s + "\"");
  if (g[1] > L.upper(1))
    throw config_error(who + ": width index " + std::to_string(g[1]) + " is out of range 0.." +
                       std::to_string(L.upper(1)) + " in \"" + s + "\"");
  for (std::size_t i = 2; i < g.size(); ++i)
    if (g[i] < L.lower(i) || g[i] > L.upper(i))
      throw config_error(who + ": layer gene " + std::to_string((i - 2) % L.max_depth) +
                         " of stage " + std::to_string((i - 2) / L.max_depth) + " is " +
                         std::to_string(g[i]) + ", expected " + std::to_string(L.lower(i)) + ".." +
                         std::to_string(L.upper(i)) + " (the first " + std::to_string(L.min_depth) +
                         " layers of a stage cannot be skipped)");
  return g;
}

inline std::string format_encoding(const mbv3_layout& L, const genome& g) {
  check_encodable(L, "format_encoding");
  check_length(L, g, "format_encoding");
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g[i] < L.lower(i) || g[i] > L.upper(i))
      throw config_error(L.who("format_encoding") + ": gene " + std::to_string(i) + " is " +
                         std::to_string(g[i]) + ", outside its bounds " +
                         std::to_string(L.lower(i)) + ".." + std::to_string(L.upper(i)));
  std::string s;
  s.reserve(g.size() + 1);
  s += static_cast<char>('0' + g[0] / 10);
  s += static_cast<char>('0' + g[0] % 10);
  for (std::size_t i = 1; i < g.size(); ++i) s += static_cast<char>('0' + g[i]);
  return s;
}

}  // namespace nat::search::detail
