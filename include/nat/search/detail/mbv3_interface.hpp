#pragma once
/// \file The member functions shared by the compile-time and the run-time MobileNetV3 spaces
/// (CRTP over a `layout()` accessor), so both have exactly one interface. Not public API.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/search/detail/mbv3_genome.hpp"
#include "nat/search/genome.hpp"

namespace nat::search::detail {

template <class Derived>
class mbv3_interface {
 public:
  /// Number of genes: resolution index, width index, stages × max depth layer genes.
  std::size_t n_var() const { return lay().n_var(); }
  /// Lower bound of every gene (NAT: 0, 0, then [1,1,0,0] per stage).
  genome lower() const { return lower_genome(lay()); }
  /// Upper bound of every gene (NAT: 16, 1, then 9 for every layer gene).
  genome upper() const { return upper_genome(lay()); }
  /// Bounds as real-valued rows for nat::evo::problem.
  std::vector<double> lower_row() const { return genome_to_row(lower()); }
  /// Upper bounds as a real-valued row for nat::evo::problem.
  std::vector<double> upper_row() const { return genome_to_row(upper()); }

  /// The canonical genome: genes clipped to their bounds, each stage's skipped layers (0) pushed
  /// behind its active ones, mandatory layers raised to at least 1 (nat_spec §1, §9). Deterministic
  /// and idempotent; sampling, decoding and features all go through it. config_error on a wrong
  /// genome length.
  genome repair(genome g) const { return detail::repair(lay(), std::move(g)); }
  /// True when repair(g) == g.
  bool is_repaired(const genome& g) const { return detail::is_repaired(lay(), g); }

  /// Genome → phenotype `{r, w, ks, e, d}` (nat_spec §1) of repair(g), so decode(g) ==
  /// decode(repair(g)) and encode(decode(g)) == repair(g).
  subnet_config decode(const genome& g) const { return detail::decode(lay(), g); }
  /// Phenotype → canonical (repaired) genome; config_error naming the entry that is not a choice
  /// of this space (resolution, width, stage count, depth, kernel, expand ratio).
  genome encode(const subnet_config& c) const { return detail::encode(lay(), c); }

  /// A random genome: each gene uniform within its bounds, then repaired (MOEA's sampler).
  genome sample(rng& gen) const { return detail::sample(lay(), gen); }
  /// A random genome uniform over distinct architectures (each phenotype equally likely).
  genome sample_uniform_phenotype(rng& gen) const {
    return detail::sample_uniform_phenotype(lay(), gen);
  }
  /// n random genomes from sample(), or from sample_uniform_phenotype() when `uniform_phenotype`.
  std::vector<genome> sample(std::size_t n, rng& gen, bool uniform_phenotype = false) const {
    std::vector<genome> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      out.push_back(uniform_phenotype ? sample_uniform_phenotype(gen) : sample(gen));
    return out;
  }

  /// Length of features(): 209 one-hot dims or 22 compact ones for NAT's space.
  std::size_t n_features(feature_encoding enc = feature_encoding::one_hot) const {
    return detail::n_features(lay(), enc);
  }
  /// Surrogate input of repair(g): one-hot per variable over its categories (MOEA, nat_spec §1) or
  /// compact scaled integers.
  std::vector<double> features(const genome& g,
                               feature_encoding enc = feature_encoding::one_hot) const {
    return detail::features(lay(), g, enc);
  }
  /// Features of many genomes, one row each.
  points features(const std::vector<genome>& gs,
                  feature_encoding enc = feature_encoding::one_hot) const {
    points p;
    p.reserve(gs.size());
    for (const auto& g : gs) p.push_back(features(g, enc));
    return p;
  }

  /// Number of distinct architectures (phenotypes); 7.4e20 for NAT's space (nat_spec §1).
  double size() const { return std::pow(10.0, log10_size()); }
  /// log10 of size().
  double log10_size() const { return detail::log10_size(lay()); }
  /// Number of distinct genomes, repaired or not; 1.19e21 for NAT's space.
  double genotype_size() const { return std::pow(10.0, log10_genotype_size()); }
  /// log10 of genotype_size().
  double log10_genotype_size() const { return detail::log10_genotype_size(lay()); }

  /// Parses NAT's `net.encoding` text (2-digit resolution index, 1-digit width index, one digit
  /// per layer gene; 23 characters for NAT) to the genome as written (not repaired). config_error
  /// naming the wrong length, the non-digit or the out-of-range index; not_supported when this
  /// space has too many choices for one digit per gene.
  genome parse_encoding(const std::string& text) const {
    return detail::parse_encoding(lay(), text);
  }
  /// The `net.encoding` text of g (inverse of parse_encoding); config_error for genes out of
  /// bounds.
  std::string format_encoding(const genome& g) const { return detail::format_encoding(lay(), g); }
  /// decode(parse_encoding(text)).
  subnet_config decode_encoding(const std::string& text) const {
    return decode(parse_encoding(text));
  }
  /// format_encoding(encode(c)).
  std::string encoding_of(const subnet_config& c) const { return format_encoding(encode(c)); }

  /// The resolution choices in pixels, in gene order.
  std::vector<int> resolutions() const { return {lay().res, lay().res + lay().n_res}; }
  /// The width multiplier choices, in gene order.
  std::vector<double> widths() const { return {lay().widths, lay().widths + lay().n_w}; }
  /// The kernel size choices, in k_idx order.
  std::vector<int> kernels() const { return {lay().kernels, lay().kernels + lay().n_k}; }
  /// The expand ratio choices, in e_idx order.
  std::vector<int> expands() const { return {lay().expands, lay().expands + lay().n_e}; }
  /// Number of searchable stages.
  std::size_t n_stages() const { return lay().n_stages; }
  /// Largest depth of a stage (layer genes per stage).
  std::size_t max_depth() const { return lay().max_depth; }
  /// Smallest depth of a stage (mandatory layers).
  std::size_t min_depth() const { return lay().min_depth; }
  /// The space's name ("nat_mbv3", "nat_mbv3_small", ...).
  std::string name() const { return lay().name; }

 private:
  mbv3_layout lay() const { return static_cast<const Derived&>(*this).layout(); }
};

}  // namespace nat::search::detail
