#pragma once
/// \file MobileNetV3 search spaces whose structure is fixed at compile time, and NAT's instance.
///
/// The genome is NAT's (Lu et al. 2021, §III-A; nat_spec §1): x0 = resolution index, x1 = width
/// index, then max_depth layer genes per stage, 0 = skipped layer, v = 1 + n_k·e_idx + k_idx
/// otherwise. Choices are template parameter packs, so genome length and bounds are constexpr.
#include <array>
#include <cstddef>

#include "nat/core/subnet_config.hpp"
#include "nat/search/choices.hpp"
#include "nat/search/detail/mbv3_genome.hpp"
#include "nat/search/detail/mbv3_interface.hpp"
#include "nat/search/genome.hpp"

namespace nat::search {

/// The phenotype a genome decodes to (`{r, w, ks, e, d}`), shared with nat::elastic.
using subnet_config = nat::subnet_config;

/// A MobileNetV3 space: `Resolutions` (pixels) and `WidthsPercent` (width multiplier × 100, since
/// C++17 has no double template arguments) are int_list / int_range choice lists, `Kernels` and
/// `Expands` the per-layer choices, NStages stages of MinDepth..MaxDepth layers.
template <class Resolutions, class WidthsPercent, class Kernels = int_list<3, 5, 7>,
          class Expands = int_list<3, 4, 6>, std::size_t NStages = 5, std::size_t MaxDepth = 4,
          std::size_t MinDepth = 2>
class mbv3_space
    : public detail::mbv3_interface<
          mbv3_space<Resolutions, WidthsPercent, Kernels, Expands, NStages, MaxDepth, MinDepth>> {
  static_assert(NStages > 0, "mbv3_space: needs at least one stage");
  static_assert(MinDepth >= 1 && MinDepth <= MaxDepth,
                "mbv3_space: need 1 <= MinDepth <= MaxDepth (a stage keeps at least one layer)");

  static constexpr std::array<double, WidthsPercent::size> make_widths() {
    std::array<double, WidthsPercent::size> w{};
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = WidthsPercent::values[i] / 100.0;
    return w;
  }

 public:
  /// Genome length.
  static constexpr std::size_t n_genes = 2 + NStages * MaxDepth;
  /// Number of (kernel, expand) pairs, the largest layer gene.
  static constexpr int n_layer_choices = static_cast<int>(Kernels::size * Expands::size);
  /// Width multipliers, in gene order.
  static constexpr std::array<double, WidthsPercent::size> width_values = make_widths();

  /// Lower bound of every gene, at compile time.
  static constexpr std::array<int, n_genes> lower_bounds = [] {
    std::array<int, n_genes> a{};
    for (std::size_t i = 2; i < n_genes; ++i) a[i] = (i - 2) % MaxDepth < MinDepth ? 1 : 0;
    return a;
  }();
  /// Upper bound of every gene, at compile time.
  static constexpr std::array<int, n_genes> upper_bounds = [] {
    std::array<int, n_genes> a{};
    a[0] = static_cast<int>(Resolutions::size) - 1;
    a[1] = static_cast<int>(WidthsPercent::size) - 1;
    for (std::size_t i = 2; i < n_genes; ++i) a[i] = n_layer_choices;
    return a;
  }();

  /// The name shown in messages.
  explicit constexpr mbv3_space(const char* name = "mbv3_space") : name_(name) {}

  /// The run-time view of this space (used by the shared implementation).
  detail::mbv3_layout layout() const {
    return {name_,
            Resolutions::values.data(),
            Resolutions::size,
            width_values.data(),
            WidthsPercent::size,
            Kernels::values.data(),
            Kernels::size,
            Expands::values.data(),
            Expands::size,
            NStages,
            MaxDepth,
            MinDepth};
  }

 private:
  const char* name_;
};

namespace detail {
using nat_mbv3_base = mbv3_space<int_range<192, 4, 17>, int_list<100, 120>>;
using nat_mbv3_small_base = mbv3_space<int_range<28, 4, 6>, int_list<100>>;
}  // namespace detail

/// NAT's 22-integer space (nat_spec §1): resolutions 192..256 step 4 (17), widths {1.0, 1.2},
/// kernels {3,5,7}, expand ratios {3,4,6}, 5 stages of 2..4 layers. 7.4e20 architectures.
struct nat_mbv3_space : detail::nat_mbv3_base {
  constexpr nat_mbv3_space() : detail::nat_mbv3_base("nat_mbv3_space") {}
};

/// The same layer genes for small images (28–64 px inputs, e.g. Fashion-MNIST with the elastic
/// `mbv3_small` supernet): resolutions 28..48 step 4 (6, around the native 28–32 px so that
/// evaluation stays cheap), a single width 1.0 (the small supernet has one engine).
struct nat_mbv3_small_space : detail::nat_mbv3_small_base {
  constexpr nat_mbv3_small_space() : detail::nat_mbv3_small_base("nat_mbv3_small_space") {}
};

}  // namespace nat::search
