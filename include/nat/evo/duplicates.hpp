#pragma once
/// \file Duplicate elimination: a hash set of genomes compared exactly (pymoo's
/// DefaultDuplicateElimination uses a 1e-16 distance threshold, which for doubles is equality).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace nat::evo::detail {

/// Set of rows of n_var doubles with open addressing; clear() keeps capacity, so one instance is
/// reused every generation without allocating.
class row_set {
 public:
  /// Empties the set for rows of n_var values, sized for about `expected` insertions.
  void reset(std::size_t n_var, std::size_t expected) {
    n_var_ = n_var;
    rows_.clear();
    std::size_t cap = 16;
    while (cap < 2 * expected + 2) cap *= 2;
    slots_.assign(cap, 0);
    count_ = 0;
  }

  /// Inserts row x; returns false (and changes nothing) when an equal row is already present.
  bool insert(const double* x) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    const std::uint64_t h = hash(x);
    std::size_t s = static_cast<std::size_t>(h) & (slots_.size() - 1);
    while (slots_[s] != 0) {
      if (equal(row(slots_[s] - 1), x)) return false;
      s = (s + 1) & (slots_.size() - 1);
    }
    rows_.insert(rows_.end(), x, x + n_var_);
    slots_[s] = static_cast<std::uint32_t>(++count_);
    return true;
  }

  /// True when an equal row is present.
  bool contains(const double* x) const {
    std::size_t s = static_cast<std::size_t>(hash(x)) & (slots_.size() - 1);
    while (slots_[s] != 0) {
      if (equal(row(slots_[s] - 1), x)) return true;
      s = (s + 1) & (slots_.size() - 1);
    }
    return false;
  }

 private:
  const double* row(std::size_t i) const { return rows_.data() + i * n_var_; }
  bool equal(const double* a, const double* b) const {
    for (std::size_t j = 0; j < n_var_; ++j)
      if (!(a[j] == b[j])) return false;
    return true;
  }
  // Sum of per-position multiplicative hashes: the products are independent, so the loop is not
  // one long multiply chain; the final mix spreads the bits for the power-of-two table.
  std::uint64_t hash(const double* x) const {
    std::uint64_t h = 0, k = 0x9E3779B97F4A7C15ULL;
    for (std::size_t j = 0; j < n_var_; ++j) {
      const double v = x[j] == 0.0 ? 0.0 : x[j];  // +0 and -0 compare equal, so hash equal
      std::uint64_t b;
      std::memcpy(&b, &v, sizeof b);
      h += (b ^ (b >> 29)) * (k | 1);
      k += 0x632BE59BD9B4E019ULL;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    return h ^ (h >> 32);
  }
  void grow() {
    std::vector<std::uint32_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    for (std::size_t i = 0; i < count_; ++i) {
      std::size_t s = static_cast<std::size_t>(hash(row(i))) & (slots_.size() - 1);
      while (slots_[s] != 0) s = (s + 1) & (slots_.size() - 1);
      slots_[s] = static_cast<std::uint32_t>(i + 1);
    }
  }

  std::size_t n_var_ = 0;
  std::size_t count_ = 0;
  std::vector<double> rows_;
  std::vector<std::uint32_t> slots_;
};

}  // namespace nat::evo::detail
