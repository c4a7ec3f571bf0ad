#pragma once
/// \file The extents of a tensor: a small fixed-capacity list of dimensions (no heap).
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "nat/core/error.hpp"

namespace nat {

/// Extents of a tensor, outermost first (NCHW for images); rank at most shape::max_rank.
///
/// Constructible from braces of any integral type, `nat::shape{n, c, h, w}`, so call sites need no
/// casts; negative extents throw shape_error.
class shape {
 public:
  /// Largest rank a tensor may have.
  static constexpr std::size_t max_rank = 8;

  /// Rank-0 shape (a scalar, one element).
  shape() = default;

  /// Shape from its extents, e.g. `shape{128, 16, 32, 32}`.
  template <class... Ints,
            std::enable_if_t<(sizeof...(Ints) > 0) && (std::is_integral_v<Ints> && ...),
                             int> = 0>
  shape(Ints... dims) {  // NOLINT(google-explicit-constructor): braces are the point
    static_assert(sizeof...(Ints) <= max_rank, "nat::shape: rank exceeds max_rank");
    (push(static_cast<long long>(dims)), ...);
  }

  /// Shape from a run-time list of extents.
  explicit shape(const std::vector<std::size_t>& dims) {
    if (dims.size() > max_rank)
      throw shape_error("shape: rank " + std::to_string(dims.size()) + " exceeds the maximum " +
                        std::to_string(max_rank));
    for (auto d : dims) dims_[rank_++] = d;
  }

  /// Number of dimensions.
  std::size_t rank() const { return rank_; }
  /// Number of dimensions (alias of rank for container-like use).
  std::size_t size() const { return rank_; }
  /// Extent of dimension i.
  std::size_t operator[](std::size_t i) const { return dims_[i]; }
  /// Mutable extent of dimension i.
  std::size_t& operator[](std::size_t i) { return dims_[i]; }
  /// Product of the extents (1 for rank 0).
  std::size_t numel() const {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  /// The extents as a vector.
  std::vector<std::size_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }
  const std::size_t* begin() const { return dims_.data(); }
  const std::size_t* end() const { return dims_.data() + rank_; }

  friend bool operator==(const shape& a, const shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (std::size_t i = 0; i < a.rank_; ++i)
      if (a.dims_[i] != b.dims_[i]) return false;
    return true;
  }
  friend bool operator!=(const shape& a, const shape& b) { return !(a == b); }

 private:
  void push(long long d) {
    if (d < 0) throw shape_error("shape: negative extent " + std::to_string(d));
    dims_[rank_++] = static_cast<std::size_t>(d);
  }

  std::array<std::size_t, max_rank> dims_{};
  std::size_t rank_ = 0;
};

/// "[128, 16, 32, 32]", for error messages.
inline std::string to_string(const shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.rank(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

}  // namespace nat
