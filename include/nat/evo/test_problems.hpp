#pragma once
/// \file Benchmark problems with known Pareto fronts: ZDT1-4, ZDT6 (Zitzler, Deb & Thiele 2000,
/// "Comparison of multiobjective evolutionary algorithms: empirical results", Evol. Comput. 8(2))
/// and DTLZ1-4, DTLZ7 (Deb, Thiele, Laumanns & Zitzler 2002/2005, "Scalable test problems for
/// evolutionary multiobjective optimization"), with sampled true fronts for IGD.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/reference_directions.hpp"

namespace nat::evo {

namespace detail {

constexpr double pi = 3.14159265358979323846;

/// A problem from a per-row kernel f(x, out); both the points and the flat callbacks are set.
template <class Kernel>
problem make_problem(std::size_t n_var, std::size_t n_obj, std::vector<double> lower,
                     std::vector<double> upper, Kernel kernel) {
  problem p;
  p.n_var = n_var;
  p.n_obj = n_obj;
  p.lower = std::move(lower);
  p.upper = std::move(upper);
  p.evaluate_flat = [kernel, n_var, n_obj](const double* x, std::size_t n, double* f) {
    for (std::size_t i = 0; i < n; ++i) kernel(x + i * n_var, f + i * n_obj);
  };
  p.evaluate = [kernel, n_var, n_obj](const points& X) {
    points F(X.size(), std::vector<double>(n_obj));
    for (std::size_t i = 0; i < X.size(); ++i) {
      if (X[i].size() != n_var)
        throw shape_error("test problem: row " + std::to_string(i) + " has " +
                          std::to_string(X[i].size()) + " variables, expected " +
                          std::to_string(n_var));
      kernel(X[i].data(), F[i].data());
    }
    return F;
  };
  return p;
}

inline void check_zdt(const char* fn, std::size_t n_var) {
  if (n_var < 2)
    throw config_error(std::string(fn) + ": n_var must be at least 2, got " +
                       std::to_string(n_var));
}

inline std::size_t check_dtlz(const char* fn, std::size_t n_obj, std::size_t n_var,
                              std::size_t default_k) {
  if (n_obj < 2)
    throw config_error(std::string(fn) + ": n_obj must be at least 2, got " +
                       std::to_string(n_obj));
  if (n_var == 0) n_var = n_obj - 1 + default_k;
  if (n_var < n_obj)
    throw config_error(std::string(fn) + ": n_var must be at least n_obj = " +
                       std::to_string(n_obj) + ", got " + std::to_string(n_var));
  return n_var;
}

/// Keeps the non-dominated rows.
inline points non_dominated_rows(const points& F) {
  const auto fronts = non_dominated_sort(F);
  points out;
  if (fronts.empty()) return out;
  for (std::size_t i : fronts[0]) out.push_back(F[i]);
  return out;
}

/// Inverted generational distance: mean over the reference front of the Euclidean distance to the
/// nearest point of the approximation (Coello & Reyes Sierra 2004). Private helper for tests;
/// nat::metrics::igd is the public one.
inline double igd(const points& approx, const points& reference_front) {
  if (approx.empty() || reference_front.empty())
    throw config_error("evo::detail::igd: empty approximation or reference front");
  double sum = 0.0;
  for (const auto& r : reference_front) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& a : approx) {
      double d = 0.0;
      for (std::size_t j = 0; j < r.size(); ++j) d += (a[j] - r[j]) * (a[j] - r[j]);
      best = std::min(best, d);
    }
    sum += std::sqrt(best);
  }
  return sum / static_cast<double>(reference_front.size());
}

/// Das-Dennis partitions giving at least n points in m objectives.
inline std::size_t partitions_for(std::size_t m, std::size_t n) {
  std::size_t p = 1;
  while (das_dennis_count(m, p) < n) ++p;
  return p;
}

}  // namespace detail

/// ZDT1: 2 objectives, convex front f2 = 1 - sqrt(f1); x in [0, 1]^n_var (default 30).
inline problem zdt1(std::size_t n_var = 30) {
  detail::check_zdt("zdt1", n_var);
  return detail::make_problem(n_var, 2, std::vector<double>(n_var, 0.0),
                              std::vector<double>(n_var, 1.0), [n_var](const double* x, double* f) {
                                double s = 0.0;
                                for (std::size_t i = 1; i < n_var; ++i) s += x[i];
                                const double g = 1.0 + 9.0 * s / static_cast<double>(n_var - 1);
                                f[0] = x[0];
                                f[1] = g * (1.0 - std::sqrt(x[0] / g));
                              });
}

/// ZDT2: 2 objectives, concave front f2 = 1 - f1^2; x in [0, 1]^n_var (default 30).
inline problem zdt2(std::size_t n_var = 30) {
  detail::check_zdt("zdt2", n_var);
  return detail::make_problem(n_var, 2, std::vector<double>(n_var, 0.0),
                              std::vector<double>(n_var, 1.0), [n_var](const double* x, double* f) {
                                double s = 0.0;
                                for (std::size_t i = 1; i < n_var; ++i) s += x[i];
                                const double g = 1.0 + 9.0 * s / static_cast<double>(n_var - 1);
                                const double r = x[0] / g;
                                f[0] = x[0];
                                f[1] = g * (1.0 - r * r);
                              });
}

/// ZDT3: 2 objectives, disconnected front; x in [0, 1]^n_var (default 30).
inline problem zdt3(std::size_t n_var = 30) {
  detail::check_zdt("zdt3", n_var);
  return detail::make_problem(
      n_var, 2, std::vector<double>(n_var, 0.0), std::vector<double>(n_var, 1.0),
      [n_var](const double* x, double* f) {
        double s = 0.0;
        for (std::size_t i = 1; i < n_var; ++i) s += x[i];
        const double g = 1.0 + 9.0 * s / static_cast<double>(n_var - 1);
        const double r = x[0] / g;
        f[0] = x[0];
        f[1] = g * (1.0 - std::sqrt(r) - r * std::sin(10.0 * detail::pi * x[0]));
      });
}

/// ZDT4: 2 objectives, multimodal (21^9 local fronts); x0 in [0, 1], others in [-5, 5]
/// (default n_var 10); front as ZDT1.
inline problem zdt4(std::size_t n_var = 10) {
  detail::check_zdt("zdt4", n_var);
  std::vector<double> lo(n_var, -5.0), hi(n_var, 5.0);
  lo[0] = 0.0;
  hi[0] = 1.0;
  return detail::make_problem(n_var, 2, lo, hi, [n_var](const double* x, double* f) {
    double s = 0.0;
    for (std::size_t i = 1; i < n_var; ++i)
      s += x[i] * x[i] - 10.0 * std::cos(4.0 * detail::pi * x[i]);
    const double g = 1.0 + 10.0 * static_cast<double>(n_var - 1) + s;
    f[0] = x[0];
    f[1] = g * (1.0 - std::sqrt(x[0] / g));
  });
}

/// ZDT6: 2 objectives, non-uniform concave front; x in [0, 1]^n_var (default 10).
inline problem zdt6(std::size_t n_var = 10) {
  detail::check_zdt("zdt6", n_var);
  return detail::make_problem(n_var, 2, std::vector<double>(n_var, 0.0),
                              std::vector<double>(n_var, 1.0), [n_var](const double* x, double* f) {
                                double s = 0.0;
                                for (std::size_t i = 1; i < n_var; ++i) s += x[i];
                                const double g =
                                    1.0 + 9.0 * std::pow(s / static_cast<double>(n_var - 1), 0.25);
                                const double s6 = std::pow(std::sin(6.0 * detail::pi * x[0]), 6.0);
                                const double f1 = 1.0 - std::exp(-4.0 * x[0]) * s6;
                                const double r = f1 / g;
                                f[0] = f1;
                                f[1] = g * (1.0 - r * r);
                              });
}

/// n points of the true front of ZDT1 (and ZDT4): f2 = 1 - sqrt(f1), f1 uniform in [0, 1].
inline points zdt1_front(std::size_t n = 1000) {
  if (n < 2) throw config_error("zdt1_front: n must be at least 2");
  points out(n, std::vector<double>(2));
  for (std::size_t i = 0; i < n; ++i) {
    const double f1 = static_cast<double>(i) / static_cast<double>(n - 1);
    out[i] = {f1, 1.0 - std::sqrt(f1)};
  }
  return out;
}

/// n points of the true front of ZDT2: f2 = 1 - f1^2.
inline points zdt2_front(std::size_t n = 1000) {
  if (n < 2) throw config_error("zdt2_front: n must be at least 2");
  points out(n, std::vector<double>(2));
  for (std::size_t i = 0; i < n; ++i) {
    const double f1 = static_cast<double>(i) / static_cast<double>(n - 1);
    out[i] = {f1, 1.0 - f1 * f1};
  }
  return out;
}

/// The true front of ZDT3: the non-dominated part of f2 = 1 - sqrt(f1) - f1 sin(10 pi f1),
/// from n evenly spaced f1 in [0, 1] (fewer points come back: only the five arcs remain).
inline points zdt3_front(std::size_t n = 10000) {
  if (n < 2) throw config_error("zdt3_front: n must be at least 2");
  points all(n, std::vector<double>(2));
  for (std::size_t i = 0; i < n; ++i) {
    const double f1 = static_cast<double>(i) / static_cast<double>(n - 1);
    all[i] = {f1, 1.0 - std::sqrt(f1) - f1 * std::sin(10.0 * detail::pi * f1)};
  }
  return detail::non_dominated_rows(all);
}

/// n points of the true front of ZDT6: f2 = 1 - f1^2 for f1 in [0.2807753191, 1].
inline points zdt6_front(std::size_t n = 1000) {
  if (n < 2) throw config_error("zdt6_front: n must be at least 2");
  const double lo = 0.2807753191;
  points out(n, std::vector<double>(2));
  for (std::size_t i = 0; i < n; ++i) {
    const double f1 = lo + (1.0 - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
    out[i] = {f1, 1.0 - f1 * f1};
  }
  return out;
}

namespace detail {

/// DTLZ1's linear front shape: f_i = 0.5 (1 + g) prod x_j (1 - x_{m-1-i}).
inline void dtlz_linear(const double* x, std::size_t m, double g, double* f) {
  for (std::size_t i = 0; i < m; ++i) {
    double v = 0.5 * (1.0 + g);
    for (std::size_t j = 0; j + 1 < m - i; ++j) v *= x[j];
    if (i > 0) v *= 1.0 - x[m - 1 - i];
    f[i] = v;
  }
}

/// DTLZ2-4's spherical front shape with x_j^alpha (DTLZ4's bias).
inline void dtlz_sphere(const double* x, std::size_t m, double g, double alpha, double* f) {
  for (std::size_t i = 0; i < m; ++i) {
    double v = 1.0 + g;
    for (std::size_t j = 0; j + 1 < m - i; ++j) v *= std::cos(std::pow(x[j], alpha) * pi / 2.0);
    if (i > 0) v *= std::sin(std::pow(x[m - 1 - i], alpha) * pi / 2.0);
    f[i] = v;
  }
}

/// Rastrigin-like distance function of DTLZ1 and DTLZ3 on x[m-1 .. n).
inline double dtlz_g_multimodal(const double* x, std::size_t m, std::size_t n) {
  const double k = static_cast<double>(n - m + 1);
  double s = 0.0;
  for (std::size_t j = m - 1; j < n; ++j)
    s += (x[j] - 0.5) * (x[j] - 0.5) - std::cos(20.0 * pi * (x[j] - 0.5));
  return 100.0 * (k + s);
}

inline double dtlz_g_sphere(const double* x, std::size_t m, std::size_t n) {
  double s = 0.0;
  for (std::size_t j = m - 1; j < n; ++j) s += (x[j] - 0.5) * (x[j] - 0.5);
  return s;
}

}  // namespace detail

/// DTLZ1: linear front sum f = 0.5, multimodal g; n_var defaults to n_obj + 4 (k = 5).
inline problem dtlz1(std::size_t n_obj = 3, std::size_t n_var = 0) {
  const std::size_t n = detail::check_dtlz("dtlz1", n_obj, n_var, 5);
  return detail::make_problem(n, n_obj, std::vector<double>(n, 0.0), std::vector<double>(n, 1.0),
                              [n, n_obj](const double* x, double* f) {
                                detail::dtlz_linear(x, n_obj,
                                                    detail::dtlz_g_multimodal(x, n_obj, n), f);
                              });
}

/// DTLZ2: spherical front |f| = 1; n_var defaults to n_obj + 9 (k = 10).
inline problem dtlz2(std::size_t n_obj = 3, std::size_t n_var = 0) {
  const std::size_t n = detail::check_dtlz("dtlz2", n_obj, n_var, 10);
  return detail::make_problem(n, n_obj, std::vector<double>(n, 0.0), std::vector<double>(n, 1.0),
                              [n, n_obj](const double* x, double* f) {
                                detail::dtlz_sphere(x, n_obj, detail::dtlz_g_sphere(x, n_obj, n),
                                                    1.0, f);
                              });
}

/// DTLZ3: spherical front, multimodal g; n_var defaults to n_obj + 9 (k = 10).
inline problem dtlz3(std::size_t n_obj = 3, std::size_t n_var = 0) {
  const std::size_t n = detail::check_dtlz("dtlz3", n_obj, n_var, 10);
  return detail::make_problem(n, n_obj, std::vector<double>(n, 0.0), std::vector<double>(n, 1.0),
                              [n, n_obj](const double* x, double* f) {
                                detail::dtlz_sphere(x, n_obj,
                                                    detail::dtlz_g_multimodal(x, n_obj, n), 1.0, f);
                              });
}

/// DTLZ4: spherical front with a density bias (alpha = 100); n_var defaults to n_obj + 9.
inline problem dtlz4(std::size_t n_obj = 3, std::size_t n_var = 0) {
  const std::size_t n = detail::check_dtlz("dtlz4", n_obj, n_var, 10);
  return detail::make_problem(n, n_obj, std::vector<double>(n, 0.0), std::vector<double>(n, 1.0),
                              [n, n_obj](const double* x, double* f) {
                                detail::dtlz_sphere(x, n_obj, detail::dtlz_g_sphere(x, n_obj, n),
                                                    100.0, f);
                              });
}

/// DTLZ7: 2^(n_obj-1) disconnected regions; n_var defaults to n_obj + 19 (k = 20).
inline problem dtlz7(std::size_t n_obj = 3, std::size_t n_var = 0) {
  const std::size_t n = detail::check_dtlz("dtlz7", n_obj, n_var, 20);
  return detail::make_problem(n, n_obj, std::vector<double>(n, 0.0), std::vector<double>(n, 1.0),
                              [n, n_obj](const double* x, double* f) {
                                double s = 0.0;
                                for (std::size_t j = n_obj - 1; j < n; ++j) s += x[j];
                                const double g = 1.0 + 9.0 * s / static_cast<double>(n - n_obj + 1);
                                double h = static_cast<double>(n_obj);
                                for (std::size_t i = 0; i + 1 < n_obj; ++i) {
                                  f[i] = x[i];
                                  h -= x[i] / (1.0 + g) * (1.0 + std::sin(3.0 * detail::pi * x[i]));
                                }
                                f[n_obj - 1] = (1.0 + g) * h;
                              });
}

/// At least n points of DTLZ1's front (the simplex sum f = 0.5), on a Das-Dennis lattice.
inline points dtlz1_front(std::size_t n_obj = 3, std::size_t n = 1000) {
  points p = das_dennis(n_obj, detail::partitions_for(n_obj, n));
  for (auto& r : p)
    for (double& v : r) v *= 0.5;
  return p;
}

/// At least n points of the unit-sphere front of DTLZ2, DTLZ3 and DTLZ4 (Das-Dennis, normalised).
inline points dtlz2_front(std::size_t n_obj = 3, std::size_t n = 1000) {
  points p = das_dennis(n_obj, detail::partitions_for(n_obj, n));
  for (auto& r : p) {
    double s = 0.0;
    for (double v : r) s += v * v;
    for (double& v : r) v /= std::sqrt(s);
  }
  return p;
}

/// The front of DTLZ7: the non-dominated part of its g = 1 surface sampled on a grid of about n
/// points of (f_1 .. f_{m-1}) in [0, 1]^(m-1).
inline points dtlz7_front(std::size_t n_obj = 3, std::size_t n = 10000) {
  if (n_obj < 2) throw config_error("dtlz7_front: n_obj must be at least 2");
  const std::size_t d = n_obj - 1;
  std::size_t per = 2;
  while (std::pow(static_cast<double>(per + 1), static_cast<double>(d)) <= static_cast<double>(n))
    ++per;
  std::size_t total = 1;
  for (std::size_t i = 0; i < d; ++i) total *= per;
  points all;
  all.reserve(total);
  std::vector<std::size_t> c(d, 0);
  for (std::size_t t = 0; t < total; ++t) {
    std::vector<double> f(n_obj);
    double h = static_cast<double>(n_obj);
    for (std::size_t i = 0; i < d; ++i) {
      f[i] = static_cast<double>(c[i]) / static_cast<double>(per - 1);
      h -= f[i] / 2.0 * (1.0 + std::sin(3.0 * detail::pi * f[i]));
    }
    f[d] = 2.0 * h;
    all.push_back(std::move(f));
    for (std::size_t i = 0; i < d; ++i) {
      if (++c[i] < per) break;
      c[i] = 0;
    }
  }
  return detail::non_dominated_rows(all);
}

}  // namespace nat::evo
