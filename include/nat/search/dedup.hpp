#pragma once
/// \file Duplicate detection on decoded phenotypes, so archives and offspring keep one genome per
/// architecture (nat_spec §4.2 duplicate elimination, §4.4 "remove members already in the archive",
/// §9 "dedup on decoded phenotypes").
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <unordered_set>
#include <vector>

#include "nat/core/subnet_config.hpp"
#include "nat/search/genome.hpp"

namespace nat::search {

/// Hash of a phenotype, consistent with subnet_config's operator== (for std::unordered_set).
struct subnet_config_hash {
  /// FNV-1a style mix over r, the bits of w, and ks, e, d with their lengths.
  std::size_t operator()(const subnet_config& c) const noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](std::uint64_t x) {
      h ^= x + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
      h *= 1099511628211ULL;
    };
    mix(static_cast<std::uint64_t>(c.r));
    const double w = c.w == 0.0 ? 0.0 : c.w;  // -0.0 == 0.0 must hash alike
    std::uint64_t wb = 0;
    std::memcpy(&wb, &w, sizeof wb);
    mix(wb);
    for (const auto* v : {&c.ks, &c.e, &c.d}) {
      mix(v->size());
      for (int x : *v) mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(x)));
    }
    return static_cast<std::size_t>(h);
  }
};

/// A set of phenotypes, e.g. an archive's decoded members.
using phenotype_set = std::unordered_set<subnet_config, subnet_config_hash>;

/// True when g and h decode to the same architecture in `space`.
template <class Space>
bool same_phenotype(const Space& space, const genome& g, const genome& h) {
  return space.decode(g) == space.decode(h);
}

/// Indices (ascending) of the first genome of each distinct phenotype in `gs`, skipping any
/// phenotype already in `seen`; the kept phenotypes are added to `seen`.
template <class Space>
std::vector<std::size_t> unique_indices(const Space& space, const std::vector<genome>& gs,
                                        phenotype_set& seen) {
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < gs.size(); ++i)
    if (seen.insert(space.decode(gs[i])).second) keep.push_back(i);
  return keep;
}

/// Indices (ascending) of the first genome of each distinct phenotype in `gs`.
template <class Space>
std::vector<std::size_t> unique_indices(const Space& space, const std::vector<genome>& gs) {
  phenotype_set seen;
  return unique_indices(space, gs, seen);
}

/// The genomes of `gs` whose phenotype is neither in `existing` nor earlier in `gs`, in order.
template <class Space>
std::vector<genome> drop_duplicates(const Space& space, const std::vector<genome>& gs,
                                    const std::vector<genome>& existing = {}) {
  phenotype_set seen;
  for (const auto& g : existing) seen.insert(space.decode(g));
  std::vector<genome> out;
  for (std::size_t i : unique_indices(space, gs, seen)) out.push_back(gs[i]);
  return out;
}

}  // namespace nat::search
