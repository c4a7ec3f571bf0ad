#pragma once
/// \file Hypervolume indicator (minimisation): exact (2-D sweep, 3-D sweep, WFG for 4+ objectives)
/// and a seeded Monte Carlo estimate.
///
/// NAT logs the hypervolume of the archive's non-dominated set after every iteration (nat_spec
/// §4.5, §2). Every routine first maps a point p that strictly dominates the reference point r
/// (p_i < r_i for every i) to u = r - p > 0, so the dominated region becomes the union of boxes
/// [0, u] anchored at the origin. A point that does not strictly dominate r spans a box of zero
/// volume and contributes nothing; when no point dominates r the hypervolume is 0.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/metrics/detail/check_points.hpp"

namespace nat::metrics {

namespace detail {

// Rows of `stride` doubles; the routines below read only the coordinates they name.

// Sort keys: (coordinate, row) pairs sort faster than row indices compared through the rows.
using key_buffer = std::vector<std::pair<double, std::size_t>>;

// Fills `keys` with (p[row][c], row) sorted by the coordinate, descending (ties in any order: the
// sweeps below give the same volume for either order of tied rows).
inline void sort_desc(const double* p, std::size_t m, std::size_t stride, std::size_t c,
                      key_buffer& keys) {
  keys.resize(m);
  for (std::size_t i = 0; i < m; ++i) keys[i] = {p[i * stride + c], i};
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
}

// 2-D: sort by u0 descending and sweep; each point adds the strip above the current height.
inline double hv2(const double* p, std::size_t m, std::size_t stride, key_buffer& keys) {
  sort_desc(p, m, stride, 0, keys);
  double h = 0.0, v = 0.0;
  for (const auto& k : keys) {
    const double* q = p + k.second * stride;
    if (q[1] > h) {
      v += q[0] * (q[1] - h);
      h = q[1];
    }
  }
  return v;
}

// The 2-D non-dominated staircase of the 3-D sweep: x ascending, y strictly descending. `insert`
// returns the area the new box adds, so the swept area is updated in O(log n) amortised (each
// point is removed at most once). A sorted vector is fastest for the small sets WFG hands down; a
// balanced tree (std::map) keeps large inputs O(n log n).
template <class Container>
class staircase {
 public:
  void clear() { c_.clear(); }

  double insert(double a, double b) {
    auto it = lower_bound(a);
    if (it != c_.end() && it->second >= b) return 0.0;  // weakly dominated: adds nothing
    auto last = it;
    if (last != c_.end() && last->first == a) ++last;  // same x, lower y: dominated by (a, b)
    auto first = it;
    while (first != c_.begin() && std::prev(first)->second <= b) --first;
    // Old height over (x_prev, x_j] was y_j for each point j dominated by (a, b), then the right
    // neighbour's y up to a; the new box raises all of (x_prev, a] to b.
    double x_prev = first == c_.begin() ? 0.0 : std::prev(first)->first;
    const double y_right = last == c_.end() ? 0.0 : last->second;
    double gain = 0.0;
    for (auto q = first; q != last; ++q) {
      gain += (q->first - x_prev) * (b - q->second);
      x_prev = q->first;
    }
    gain += (a - x_prev) * (b - y_right);
    if constexpr (std::is_same_v<Container, std::vector<std::pair<double, double>>>) {
      if (first != last) {
        *first = {a, b};
        c_.erase(std::next(first), last);
      } else {
        c_.insert(first, {a, b});
      }
    } else {
      c_.insert(c_.erase(first, last), {a, b});
    }
    return gain;
  }

 private:
  typename Container::iterator lower_bound(double a) {
    if constexpr (std::is_same_v<Container, std::vector<std::pair<double, double>>>) {
      return std::lower_bound(
          c_.begin(), c_.end(), a,
          [](const std::pair<double, double>& e, double x) { return e.first < x; });
    } else {
      return c_.lower_bound(a);
    }
  }

  Container c_;
};

using vector_staircase = staircase<std::vector<std::pair<double, double>>>;
using tree_staircase = staircase<std::map<double, double>>;

// 3-D in O(n log n) (Beume, Fonseca, López-Ibáñez, Paquete & Vahrenhold 2009, "On the complexity
// of computing the hypervolume indicator"): sweep u2 downwards; between consecutive levels the
// dominated cross-section is the area under the 2-D staircase of the points seen so far.
template <class Stair>
double hv3(const double* p, std::size_t m, std::size_t stride, key_buffer& keys, Stair& stair) {
  sort_desc(p, m, stride, 2, keys);
  stair.clear();
  double area = 0.0, v = 0.0;
  for (std::size_t k = 0; k < m; ++k) {
    const double* q = p + keys[k].second * stride;
    area += stair.insert(q[0], q[1]);
    const double z_next = k + 1 < m ? keys[k + 1].first : 0.0;
    v += area * (q[2] - z_next);
  }
  return v;
}

// Rows above this count use the tree staircase at the top level (vector insertion is O(n)).
inline constexpr std::size_t vector_staircase_limit = 2048;

// WFG (While, Bradstreet & Barone 2012, "A fast way of calculating exact hypervolumes", IEEE TEC
// 16(1)): with the points sorted by their last coordinate, descending,
//   HV_k(S) = sum_j u_j[k-1] * (incl_{k-1}(u_j) - HV_{k-1}(nds(limit(u_0..u_{j-1}; u_j)))),
// where limit(.; u_j) clips the earlier points to u_j's box and nds keeps the non-dominated ones.
// Recursion stops at 3 objectives with the O(n log n) sweep (`stop3`; with stop3 = false it goes
// down to the 2-D sweep, which tests use as a second exact method). Buffers are per dimension:
// at each level only one limit set is live, so the recursion allocates nothing after the first
// call.
class wfg {
 public:
  wfg(std::size_t dim, std::size_t n, bool stop3 = true)
      : d_(dim), stop3_(stop3), lim_(dim + 1), sorted_(dim + 1) {
    for (std::size_t k = 0; k <= dim; ++k) {
      lim_[k].resize(n * dim);
      sorted_[k].resize(n * dim);
    }
  }

  // Hypervolume of m rows (stride d) of u > 0 over all d coordinates.
  double compute(const double* u, std::size_t m) { return hv(u, m, d_); }

 private:
  double hv(const double* p, std::size_t m, std::size_t k) {
    if (m == 0) return 0.0;
    if (k == 1) {
      double best = 0.0;
      for (std::size_t i = 0; i < m; ++i) best = std::max(best, p[i * d_]);
      return best;
    }
    if (k == 2) return hv2(p, m, d_, keys_);
    if (k == 3 && stop3_) return hv3(p, m, d_, keys_, stair_);
    if (m == 1) {
      double v = 1.0;
      for (std::size_t c = 0; c < k; ++c) v *= p[c];
      return v;
    }
    // Sort by the last coordinate descending, ties by the sum of the others descending: a point
    // that weakly dominates another then comes first (or is equal), so one pass keeps the
    // non-dominated points. (Rounding can tie the sums of two distinct rows; a dominated row that
    // survives only costs time, since the sum below is exact for any set sorted by the last
    // coordinate.)
    auto& keys = tie_keys_;
    keys.resize(m);
    for (std::size_t i = 0; i < m; ++i) {
      const double* q = p + i * d_;
      double sum = 0.0;
      for (std::size_t c = 0; c + 1 < k; ++c) sum += q[c];
      keys[i] = {q[k - 1], sum, i};
    }
    std::sort(keys.begin(), keys.end(), [](const tie_key& a, const tie_key& b) {
      return a.key > b.key || (a.key == b.key && a.tie > b.tie);
    });
    double* s = sorted_[k].data();
    std::size_t ms = 0;
    for (const auto& key : keys) {
      const double* q = p + key.idx * d_;
      bool dominated = false;
      for (std::size_t j = 0; j < ms && !dominated; ++j) {
        const double* r = s + j * d_;
        std::size_t c = 0;
        while (c < k && r[c] >= q[c]) ++c;
        dominated = c == k;
      }
      if (!dominated) std::copy(q, q + k, s + (ms++) * d_);
    }
    if (k == 4 && stop3_) return hv4_sorted(s, ms);
    if (k == 5 && stop3_) return hv5_sorted(s, ms);
    double* lim = lim_[k - 1].data();
    double v = 0.0;
    for (std::size_t j = 0; j < ms; ++j) {
      const double* q = s + j * d_;
      double incl = 1.0;
      for (std::size_t c = 0; c + 1 < k; ++c) incl *= q[c];
      bool covered = false;  // an earlier point's projection covers q's: no exclusive volume
      for (std::size_t i = 0; i < j && !covered; ++i) {
        const double* r = s + i * d_;
        double* l = lim + i * d_;
        bool all_ge = true;
        for (std::size_t c = 0; c + 1 < k; ++c) {
          l[c] = std::min(r[c], q[c]);
          all_ge = all_ge && r[c] >= q[c];
        }
        covered = all_ge;
      }
      if (covered) continue;
      if (j > 0) incl -= hv(lim, j, k - 1);
      v += q[k - 1] * incl;
    }
    return v;
  }

  // The k = 4 level on its sorted non-dominated rows. Each point's 3-D exclusive volume is its
  // box minus the 3-D sweep of the earlier points clipped to it. Clipping (min with q) keeps the
  // order of the third coordinate, so one sort of the rows by it serves every j: the sweep walks
  // that order and skips rows at or after j, instead of sorting each limit set again.
  double hv4_sorted(const double* s, std::size_t ms) {
    auto& order = order_;
    sort_desc(s, ms, d_, 2, order);
    double v = 0.0;
    for (std::size_t j = 0; j < ms; ++j) {
      const double* q = s + j * d_;
      stair_.clear();
      double area = 0.0, v3 = 0.0, z_prev = 0.0;
      bool covered = false;
      for (const auto& o : order) {
        const std::size_t i = o.second;
        if (i >= j) continue;
        const double* r = s + i * d_;
        if (r[0] >= q[0] && r[1] >= q[1] && r[2] >= q[2]) {
          covered = true;  // q's projection lies inside an earlier box: no exclusive volume
          break;
        }
        const double z = std::min(r[2], q[2]);
        v3 += area * (z_prev - z);
        area += stair_.insert(std::min(r[0], q[0]), std::min(r[1], q[1]));
        z_prev = z;
      }
      if (covered) continue;
      v3 += area * z_prev;
      v += q[3] * (q[0] * q[1] * q[2] - v3);
    }
    return v;
  }

  // The k = 5 level on its rows sorted by the 5th coordinate. Like hv4_sorted it avoids sorting
  // each limit set: one order of the rows by the 4th coordinate (ties by the sum of the first
  // three) serves every point q. Clipped to q, the rows with r[3] >= q[3] all get q[3] (group 1:
  // only they can cover q, and only they need sorting, by their clipped sum so that dominators
  // come first); the others keep r[3] and their order (group 2), and cannot dominate group 1.
  // The one-pass non-dominated filter then hands hv4_sorted rows already sorted by coordinate 3.
  double hv5_sorted(const double* s, std::size_t ms) {
    auto& ord = ord5_;
    ord.resize(ms);
    for (std::size_t i = 0; i < ms; ++i) {
      const double* r = s + i * d_;
      ord[i] = {r[3], r[0] + r[1] + r[2], i};
    }
    std::sort(ord.begin(), ord.end(), [](const tie_key& a, const tie_key& b) {
      return a.key > b.key || (a.key == b.key && a.tie > b.tie);
    });
    double* lim = lim_[4].data();
    auto& g1 = group1_;
    double l[4];
    double v = 0.0;
    for (std::size_t j = 0; j < ms; ++j) {
      const double* q = s + j * d_;
      g1.clear();
      bool covered = false;
      std::size_t p2 = 0;
      for (; p2 < ms && ord[p2].key >= q[3]; ++p2) {
        const std::size_t i = ord[p2].idx;
        if (i >= j) continue;
        const double* r = s + i * d_;
        if (r[0] >= q[0] && r[1] >= q[1] && r[2] >= q[2]) {
          covered = true;
          break;
        }
        g1.push_back({std::min(r[0], q[0]) + std::min(r[1], q[1]) + std::min(r[2], q[2]), i});
      }
      if (covered) continue;
      std::sort(g1.begin(), g1.end(),
                [](const auto& a, const auto& b) { return a.first > b.first; });
      std::size_t kept = 0;
      auto add = [&]() {
        for (std::size_t t = 0; t < kept; ++t) {
          const double* o = lim + t * d_;
          if (o[0] >= l[0] && o[1] >= l[1] && o[2] >= l[2] && o[3] >= l[3]) return;
        }
        std::copy(l, l + 4, lim + (kept++) * d_);
      };
      for (const auto& g : g1) {
        const double* r = s + g.second * d_;
        l[0] = std::min(r[0], q[0]);
        l[1] = std::min(r[1], q[1]);
        l[2] = std::min(r[2], q[2]);
        l[3] = q[3];
        add();
      }
      for (std::size_t p = p2; p < ms; ++p) {
        const std::size_t i = ord[p].idx;
        if (i >= j) continue;
        const double* r = s + i * d_;
        l[0] = std::min(r[0], q[0]);
        l[1] = std::min(r[1], q[1]);
        l[2] = std::min(r[2], q[2]);
        l[3] = r[3];
        add();
      }
      const double incl = q[0] * q[1] * q[2] * q[3];
      v += q[4] * (incl - (kept > 0 ? hv4_sorted(lim, kept) : 0.0));
    }
    return v;
  }

  std::size_t d_;
  bool stop3_;
  std::vector<std::vector<double>> lim_, sorted_;
  struct tie_key {
    double key, tie;
    std::size_t idx;
  };
  // Only one sort is live at a time at any level (each finishes before recursing), so the key
  // buffers are shared across levels.
  std::vector<tie_key> tie_keys_, ord5_;
  key_buffer group1_;
  key_buffer keys_, order_;
  vector_staircase stair_;
};

// Rows of the points that strictly dominate ref, as u = ref - p (row-major, stride d).
inline std::vector<double> to_anchored(const double* rows, std::size_t n, const double* ref,
                                       std::size_t d, std::size_t& m) {
  std::vector<double> u;
  u.reserve(n * d);
  m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = rows + i * d;
    std::size_t c = 0;
    while (c < d && p[c] < ref[c]) ++c;
    if (c < d) continue;
    for (c = 0; c < d; ++c) u.push_back(ref[c] - p[c]);
    ++m;
  }
  return u;
}

inline double hypervolume_anchored(const double* u, std::size_t m, std::size_t d) {
  if (m == 0) return 0.0;
  if (d == 1) {
    double best = 0.0;
    for (std::size_t i = 0; i < m; ++i) best = std::max(best, u[i]);
    return best;
  }
  key_buffer idx;
  if (d == 2) return hv2(u, m, 2, idx);
  if (d == 3) {
    if (m <= vector_staircase_limit) {
      vector_staircase s;
      return hv3(u, m, 3, idx, s);
    }
    tree_staircase s;
    return hv3(u, m, 3, idx, s);
  }
  return wfg(d, m).compute(u, m);
}

inline std::vector<double> flatten(const points& p, std::size_t d) {
  std::vector<double> flat;
  flat.reserve(p.size() * d);
  for (const auto& row : p) flat.insert(flat.end(), row.begin(), row.end());
  return flat;
}

}  // namespace detail

/// Exact hypervolume (minimisation) of `rows` (n rows of ref.size() doubles, row-major) with
/// respect to `ref`: the faster overload beside the nat::points one, same checks and semantics.
inline double hypervolume(const double* rows, std::size_t n, const std::vector<double>& ref) {
  const std::size_t d = detail::check_vector("hypervolume", "reference point", ref);
  if (n > 0 && rows == nullptr) throw config_error("hypervolume: rows is null but n > 0");
  for (std::size_t i = 0; i < n * d; ++i)
    if (!std::isfinite(rows[i]))
      throw config_error("hypervolume: row " + std::to_string(i / d) + " objective " +
                         std::to_string(i % d) + " must be finite");
  std::size_t m = 0;
  const auto u = detail::to_anchored(rows, n, ref.data(), d, m);
  return detail::hypervolume_anchored(u.data(), m, d);
}

/// Exact hypervolume (minimisation) of `points` with respect to the reference point `ref`: the
/// volume of the region dominated by the points and bounded by ref.
///
/// Algorithms by objective count: 2 — sort and sweep, O(n log n); 3 — sweep over the third
/// objective with a 2-D staircase (Beume et al. 2009), O(n log n); 4 and more — WFG (While,
/// Bradstreet & Barone 2012) recursing down to the 3-D sweep, with the 4- and 5-objective levels
/// sorting once per level instead of once per limit set. docs/performance/metrics.md compares it
/// with pagmo.
/// Semantics: points that do not strictly dominate ref (some p_i >= r_i) contribute nothing, so
/// the result is 0 when none does, and for an empty point set. Duplicates and dominated points
/// are allowed. Throws config_error for an empty or non-finite ref or non-finite points, and
/// shape_error when a row's length differs from ref's.
inline double hypervolume(const points& points, const std::vector<double>& ref) {
  const std::size_t d = detail::check_vector("hypervolume", "reference point", ref);
  detail::check_points("hypervolume", "points", points, d, true);
  const auto flat = detail::flatten(points, d);
  std::size_t m = 0;
  const auto u = detail::to_anchored(flat.data(), points.size(), ref.data(), d, m);
  return detail::hypervolume_anchored(u.data(), m, d);
}

/// A Monte Carlo hypervolume estimate with its standard error.
struct hypervolume_estimate {
  double value = 0.0;           ///< estimated hypervolume
  double standard_error = 0.0;  ///< binomial standard error of `value`
  std::size_t samples = 0;      ///< number of uniform samples drawn
};

/// Monte Carlo hypervolume (minimisation): `samples` uniform points in the box between the
/// points' ideal point and ref; the hit fraction times the box volume. For many objectives where
/// the exact value is too costly; seeded, so the same seed gives the same estimate. Same input
/// checks and semantics as hypervolume(); config_error when samples is 0.
inline hypervolume_estimate hypervolume_monte_carlo(const points& points,
                                                    const std::vector<double>& ref,
                                                    std::size_t samples, std::uint64_t seed) {
  const std::size_t d = detail::check_vector("hypervolume_monte_carlo", "reference point", ref);
  detail::check_points("hypervolume_monte_carlo", "points", points, d, true);
  if (samples == 0) throw config_error("hypervolume_monte_carlo: samples must be positive, got 0");
  hypervolume_estimate est;
  est.samples = samples;
  const auto flat = detail::flatten(points, d);
  std::size_t m = 0;
  const auto u = detail::to_anchored(flat.data(), points.size(), ref.data(), d, m);
  if (m == 0) return est;
  std::vector<double> hi(d, 0.0);  // the box is [0, max u] in the anchored frame
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t c = 0; c < d; ++c) hi[c] = std::max(hi[c], u[i * d + c]);
  double box = 1.0;
  for (double h : hi) box *= h;
  rng gen(seed);
  std::vector<double> s(d);
  std::size_t hits = 0;
  for (std::size_t t = 0; t < samples; ++t) {
    for (std::size_t c = 0; c < d; ++c) s[c] = gen.uniform() * hi[c];
    for (std::size_t i = 0; i < m; ++i) {
      const double* q = u.data() + i * d;
      std::size_t c = 0;
      while (c < d && q[c] >= s[c]) ++c;
      if (c == d) {
        ++hits;
        break;
      }
    }
  }
  const double f = double(hits) / double(samples);
  est.value = box * f;
  est.standard_error = box * std::sqrt(f * (1.0 - f) / double(samples));
  return est;
}

}  // namespace nat::metrics
