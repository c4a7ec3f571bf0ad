#pragma once
/// \file Compile-time lists of choices for one search variable (resolutions, kernels, widths, ...).
///
/// A search space whose *structure* is fixed at compile time takes its choices as template
/// parameter packs (DESIGN.md: "compile time: the structure of a search space"); these two tags
/// carry such a pack and expose it as a constexpr array.
#include <array>
#include <cstddef>

namespace nat::search {

/// The explicit choices V... of one variable, e.g. `int_list<3, 5, 7>` for kernel sizes.
template <int... V>
struct int_list {
  static_assert(sizeof...(V) > 0, "int_list: a variable needs at least one choice");
  /// Number of choices.
  static constexpr std::size_t size = sizeof...(V);
  /// The choices in the order given (their index is the gene value).
  static constexpr std::array<int, sizeof...(V)> values{{V...}};
};

namespace detail {
template <int First, int Step, std::size_t Count>
constexpr std::array<int, Count> arithmetic_values() {
  std::array<int, Count> a{};
  for (std::size_t i = 0; i < Count; ++i) a[i] = First + Step * static_cast<int>(i);
  return a;
}
}  // namespace detail

/// The Count choices First, First + Step, ..., e.g. `int_range<192, 4, 17>` for NAT's resolutions
/// 192..256 (nat_spec §1); spares writing out 17 values as a pack.
template <int First, int Step, std::size_t Count>
struct int_range {
  static_assert(Count > 0, "int_range: a variable needs at least one choice");
  static_assert(Step > 0, "int_range: choices must be ascending");
  /// Number of choices.
  static constexpr std::size_t size = Count;
  /// First, First + Step, ...
  static constexpr std::array<int, Count> values = detail::arithmetic_values<First, Step, Count>();
};

}  // namespace nat::search
