#pragma once
/// \file Non-dominated sorting: partition a set of objective vectors into Pareto fronts.
///
/// Two objectives: a sweep over the points in lexicographic order with a binary search over the
/// fronts' last members, O(N log N) (Jensen 2003, "Reducing the run-time complexity of
/// multiobjective EAs: the NSGA-II and other algorithms", §III for the 2-D case). More objectives:
/// efficient non-dominated sort with binary search over fronts, ENS-BS (Zhang, Tian, Cheng & Jin
/// 2015, IEEE TEVC 19(2)): points are visited in lexicographic order, so a point can only be
/// dominated by points already placed, and "front k holds a dominator of p" is monotone in k. Worst
/// case O(M N^2), in practice far fewer comparisons than Deb's O(M N^2) fast non-dominated sort and
/// no domination lists.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "nat/core/points.hpp"
#include "nat/evo/matrix.hpp"

namespace nat::evo {

namespace detail {

/// Scratch buffers reused across calls so that the algorithms' hot loop does not allocate.
struct nds_workspace {
  std::vector<std::uint32_t> order;
  std::vector<double> sorted;
  std::vector<std::vector<std::uint32_t>> fronts;
  std::vector<double> last;  // 2-D sweep: last member (f1, f2) of each front
};

/// ENS-BS over the rows of ws.sorted (already in lexicographic order); M > 0 fixes the number of
/// objectives at compile time so the dominance test compiles to a few branch-free vector compares.
template <std::size_t M>
std::size_t ens_bs(std::size_t n, std::size_t m_runtime, std::size_t* rank, nds_workspace& ws) {
  const std::size_t m = M > 0 ? M : m_runtime;
  const double* s = ws.sorted.data();
  auto& fronts = ws.fronts;
  for (auto& f : fronts) f.clear();
  std::size_t nf = 0;
  // q precedes p lexicographically, so q dominates p iff q[j] <= p[j] for j >= 1 and q != p.
  // Scanning newest members first finds a dominator sooner: they are closest in the sort order.
  auto dominated_by_front = [&](std::size_t k, const double* p) {
    const auto& fr = fronts[k];
    for (std::size_t t = fr.size(); t-- > 0;) {
      const double* q = s + m * fr[t];
      bool le = true;
      for (std::size_t j = 1; j < m; ++j) le &= q[j] <= p[j];
      if (!le) continue;
      for (std::size_t e = 0; e < m; ++e)
        if (q[e] != p[e]) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = s + m * i;
    std::size_t lo = 0, hi = nf;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (dominated_by_front(mid, p)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == nf) {
      if (fronts.size() <= nf) fronts.emplace_back();
      ++nf;
    }
    fronts[lo].push_back(static_cast<std::uint32_t>(i));
    rank[ws.order[i]] = lo;
  }
  return nf;
}

/// Front index (0 = non-dominated) of each of n row-major m-objective points, written to
/// rank[0..n). Returns the number of fronts. Values must not be NaN (callers filter them out).
inline std::size_t non_dominated_rank(const double* F, std::size_t n, std::size_t m,
                                      std::size_t* rank, nds_workspace& ws) {
  if (n == 0) return 0;
  auto& order = ws.order;
  order.resize(n);
  std::iota(order.begin(), order.end(), 0u);
  // Lexicographic order, ties by index, so that equal inputs give equal outputs everywhere.
  if (m == 2) {
    std::sort(order.begin(), order.end(), [F](std::uint32_t a, std::uint32_t b) {
      const double* x = F + 2 * static_cast<std::size_t>(a);
      const double* y = F + 2 * static_cast<std::size_t>(b);
      if (x[0] != y[0]) return x[0] < y[0];
      if (x[1] != y[1]) return x[1] < y[1];
      return a < b;
    });
  } else {
    std::sort(order.begin(), order.end(), [F, m](std::uint32_t a, std::uint32_t b) {
      const double* x = F + m * a;
      const double* y = F + m * b;
      for (std::size_t j = 0; j < m; ++j)
        if (x[j] != y[j]) return x[j] < y[j];
      return a < b;
    });
  }

  if (m == 1) {
    std::size_t r = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0 && F[order[i]] != F[order[i - 1]]) ++r;
      rank[order[i]] = r;
    }
    return r + 1;
  }

  if (m == 2) {
    // Every placed point precedes p lexicographically (q.f1 <= p.f1), and within a front f2 is
    // non-increasing, so front k dominates p iff its last member does.
    auto& last = ws.last;
    last.clear();
    std::size_t nf = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double* p = F + 2 * static_cast<std::size_t>(order[i]);
      std::size_t lo = 0, hi = nf;
      while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        const double l1 = last[2 * mid], l2 = last[2 * mid + 1];
        const bool dom = l2 < p[1] || (l2 == p[1] && l1 < p[0]);
        if (dom) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      if (lo == nf) {
        last.push_back(0.0);
        last.push_back(0.0);
        ++nf;
      }
      last[2 * lo] = p[0];
      last[2 * lo + 1] = p[1];
      rank[order[i]] = lo;
    }
    return nf;
  }

  // General case: copy the rows in visiting order so that front scans read contiguous memory.
  auto& srt = ws.sorted;
  srt.resize(n * m);
  for (std::size_t i = 0; i < n; ++i)
    std::copy(F + m * order[i], F + m * order[i] + m, srt.data() + m * i);
  switch (m) {
    case 3:
      return ens_bs<3>(n, m, rank, ws);
    case 4:
      return ens_bs<4>(n, m, rank, ws);
    case 5:
      return ens_bs<5>(n, m, rank, ws);
    case 6:
      return ens_bs<6>(n, m, rank, ws);
    case 8:
      return ens_bs<8>(n, m, rank, ws);
    default:
      return ens_bs<0>(n, m, rank, ws);
  }
}

/// Groups ranks into fronts, each listing its indices in increasing order.
inline std::vector<std::vector<std::size_t>> fronts_from_rank(const std::size_t* rank,
                                                              std::size_t n, std::size_t nf) {
  std::vector<std::vector<std::size_t>> fronts(nf);
  for (std::size_t i = 0; i < n; ++i) fronts[rank[i]].push_back(i);
  return fronts;
}

}  // namespace detail

/// Fronts of n row-major points with m objectives (minimised), front 0 (non-dominated) first;
/// each front lists its indices in increasing order. Equal points share a front.
inline std::vector<std::vector<std::size_t>> non_dominated_sort(const double* F, std::size_t n,
                                                                std::size_t m) {
  if (n > 0 && m == 0) throw config_error("non_dominated_sort: points have zero objectives");
  if (n > UINT32_MAX) throw config_error("non_dominated_sort: more than 2^32 points");
  for (std::size_t i = 0; i < n * m; ++i)
    if (F[i] != F[i])
      throw config_error("non_dominated_sort: point " + std::to_string(i / m) + " objective " +
                         std::to_string(i % m) + " is NaN; expected numbers");
  detail::nds_workspace ws;
  std::vector<std::size_t> rank(n);
  const std::size_t nf = detail::non_dominated_rank(F, n, m, rank.data(), ws);
  return detail::fronts_from_rank(rank.data(), n, nf);
}

/// Fronts of a set of objective vectors (minimised), front 0 (non-dominated) first; each front
/// lists its indices in increasing order. Throws shape_error on ragged rows, config_error on NaN.
inline std::vector<std::vector<std::size_t>> non_dominated_sort(const points& F) {
  std::vector<double> flat;
  const std::size_t m = detail::to_flat(F, flat, "non_dominated_sort");
  return non_dominated_sort(flat.data(), F.size(), m);
}

/// Front index of every point (0 = non-dominated), the same partition as non_dominated_sort.
inline std::vector<std::size_t> non_dominated_rank(const points& F) {
  std::vector<double> flat;
  const std::size_t m = detail::to_flat(F, flat, "non_dominated_rank");
  if (!F.empty() && m == 0) throw config_error("non_dominated_rank: points have zero objectives");
  detail::nds_workspace ws;
  std::vector<std::size_t> rank(F.size());
  detail::non_dominated_rank(flat.data(), F.size(), m, rank.data(), ws);
  return rank;
}

}  // namespace nat::evo
