#pragma once
/// \file Broadcasting add/sub/mul (residual connections, SE scaling [N,C,H,W]·[N,C,1,1], bias
/// [1,C,1,1]), scaling by a constant, and sum/mean reductions to a scalar.
///
/// Broadcasting follows NumPy for operands of equal rank: along each dimension the extents are
/// equal or one of them is 1. Gradients of a broadcast operand are summed over the broadcast
/// dimensions serially in a fixed order (deterministic).
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "nat/autograd/backward.hpp"
#include "nat/core/parallel.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {
namespace detail {

using stride_array = std::array<std::size_t, nat::shape::max_rank>;

template <class T>
nat::shape broadcast_shape(const char* op, const tensor<T>& a, const tensor<T>& b) {
  if (!a.defined() || !b.defined()) throw shape_error(std::string(op) + ": undefined operand");
  if (a.rank() != b.rank())
    throw shape_error(std::string(op) + ": operands of shape " + to_string(a.shape()) + " and " +
                      to_string(b.shape()) + " differ in rank");
  nat::shape out = a.shape();
  for (std::size_t d = 0; d < a.rank(); ++d) {
    if (a.size(d) == b.size(d)) continue;
    if (a.size(d) != 1 && b.size(d) != 1)
      throw shape_error(std::string(op) + ": cannot broadcast shapes " + to_string(a.shape()) +
                        " and " + to_string(b.shape()) + " (dimension " + std::to_string(d) + ")");
    out[d] = a.size(d) == 1 ? b.size(d) : a.size(d);
  }
  return out;
}

// Strides of a contiguous tensor of shape `s` read as shape `out` (0 along broadcast dims).
inline stride_array broadcast_strides(const nat::shape& s, const nat::shape& out) {
  stride_array st = nat::detail::contiguous_strides(s);
  for (std::size_t d = 0; d < out.rank(); ++d)
    if (s[d] == 1 && out[d] != 1) st[d] = 0;
  return st;
}

// f(i, offset_a, offset_b) for every element i (row-major) of `out`.
template <class F>
void broadcast_loop(const nat::shape& out, const stride_array& sa, const stride_array& sb, F&& f) {
  const std::size_t n = out.numel(), r = out.rank();
  if (n == 0) return;
  if (r == 0) {
    f(0, 0, 0);
    return;
  }
  std::array<std::size_t, nat::shape::max_rank> idx{};
  std::size_t oa = 0, ob = 0;
  const std::size_t inner = out[r - 1];
  for (std::size_t i = 0; i < n; i += inner) {
    for (std::size_t j = 0; j < inner; ++j) f(i + j, oa + j * sa[r - 1], ob + j * sb[r - 1]);
    for (std::size_t d = r - 1; d-- > 0;) {
      if (++idx[d] < out[d]) {
        oa += sa[d];
        ob += sb[d];
        break;
      }
      oa -= (out[d] - 1) * sa[d];
      ob -= (out[d] - 1) * sb[d];
      idx[d] = 0;
    }
  }
}

// Sums g (shape `out`) into a tensor of shape `s` (s broadcasts to out).
template <class T>
tensor<T> reduce_to(const tensor<T>& g, const nat::shape& s) {
  if (g.shape() == s) return g;
  auto r = tensor<T>::zeros(s);
  const stride_array st = broadcast_strides(s, g.shape());
  const T* pg = g.data();
  T* pr = r.data();
  broadcast_loop(g.shape(), st, st,
                 [&](std::size_t i, std::size_t o, std::size_t) { pr[o] += pg[i]; });
  return r;
}

// Is b [N,C,1,1]-like against a [N,C,H,W] (per-plane scalar)? The SE and bias fast path.
template <class T>
bool per_plane(const tensor<T>& a, const tensor<T>& b) {
  if (a.rank() != 4 || b.rank() != 4) return false;
  return b.size(2) == 1 && b.size(3) == 1 && a.size(1) == b.size(1) &&
         (b.size(0) == a.size(0) || b.size(0) == 1) && a.size(2) * a.size(3) > 1;
}

// Planes per task of the per-plane loops: ~16k elements.
inline std::size_t plane_grain(std::size_t hw) {
  return std::max<std::size_t>(1, (std::size_t(1) << 14) / std::max<std::size_t>(hw, 1));
}

// g [N,C,H,W] ⊙ a [N,C,H,W] summed per plane into shape sb ([N,C,1,1] or [1,C,1,1]).
template <class T>
tensor<T> per_plane_dot(const tensor<T>& g, const tensor<T>& a, const nat::shape& sb) {
  const std::size_t c = g.size(1), planes = g.size(0) * c, hw = g.size(2) * g.size(3);
  const T *pg = g.data(), *px = a.data();
  if (sb[0] != 1) {  // one entry per plane: independent, in parallel
    auto r = tensor<T>::empty(sb);
    T* o = r.data();
    nat::parallel_for(0, planes, plane_grain(hw), [&](std::size_t lo, std::size_t hi) {
      for (std::size_t p = lo; p < hi; ++p) {
        T acc = 0;
        for (std::size_t q = 0; q < hw; ++q) acc += pg[p * hw + q] * px[p * hw + q];
        o[p] = acc;
      }
    });
    return r;
  }
  auto r = tensor<T>::zeros(sb);  // summed over the batch too: serial, fixed order
  T* o = r.data();
  for (std::size_t p = 0; p < planes; ++p) {
    T acc = 0;
    for (std::size_t q = 0; q < hw; ++q) acc += pg[p * hw + q] * px[p * hw + q];
    o[p % c] += acc;
  }
  return r;
}

// out[n,c,:,:] = g[n,c,:,:] · b[n or 0, c] (out may be g).
template <class T>
void scale_planes(const tensor<T>& g, const tensor<T>& b, const tensor<T>& out) {
  const std::size_t c = g.size(1), planes = g.size(0) * c, hw = g.size(2) * g.size(3);
  const bool bn = b.size(0) != 1;
  const T *pg = g.data(), *pb = b.data();
  T* o = out.data();
  nat::parallel_for(0, planes, plane_grain(hw), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      const T v = pb[bn ? p : p % c];
      for (std::size_t q = 0; q < hw; ++q) o[p * hw + q] = pg[p * hw + q] * v;
    }
  });
}

enum class binary_kind { add, sub, mul };

template <class T>
tensor<T> binary(const char* op, binary_kind kind, const tensor<T>& a, const tensor<T>& b) {
  const nat::shape out = broadcast_shape(op, a, b);
  const tensor<T> ac = a.contiguous(), bc = b.contiguous();
  auto y = tensor<T>::empty(out);
  const T *pa = ac.data(), *pb = bc.data();
  T* py = y.data();
  // The kind is a template argument of the loops (a runtime branch per element kept the SE and
  // residual loops scalar).
  auto run = [&](auto kind_tag) {
    constexpr binary_kind K = decltype(kind_tag)::value;
    auto apply = [](T u, T v) {
      if constexpr (K == binary_kind::add)
        return u + v;
      else if constexpr (K == binary_kind::sub)
        return u - v;
      else
        return u * v;
    };
    if (a.shape() == b.shape()) {
      nat::parallel_for(0, y.numel(), elementwise_grain(), [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) py[i] = apply(pa[i], pb[i]);
      });
    } else if (a.shape() == out && per_plane(a, b)) {
      const std::size_t planes = out[0] * out[1], hw = out[2] * out[3], c = out[1];
      const bool bn = b.size(0) != 1;
      nat::parallel_for(0, planes, plane_grain(hw), [&](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo; p < hi; ++p) {
          const T v = pb[bn ? p : p % c];
          for (std::size_t q = 0; q < hw; ++q) py[p * hw + q] = apply(pa[p * hw + q], v);
        }
      });
    } else {
      const stride_array sa = broadcast_strides(a.shape(), out),
                         sb = broadcast_strides(b.shape(), out);
      broadcast_loop(out, sa, sb, [&](std::size_t i, std::size_t ia, std::size_t ib) {
        py[i] = apply(pa[ia], pb[ib]);
      });
    }
  };
  if (kind == binary_kind::add)
    run(std::integral_constant<binary_kind, binary_kind::add>{});
  else if (kind == binary_kind::sub)
    run(std::integral_constant<binary_kind, binary_kind::sub>{});
  else
    run(std::integral_constant<binary_kind, binary_kind::mul>{});
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const nat::shape sa = a.shape(), sb = b.shape();
  if (kind == binary_kind::mul) {
    autograd::record<T>(
        op, y, {a, b}, [=, ac = ac.detach(), bc = bc.detach()](const tensor<T>& gy, auto& gx) {
          // d(a·b) = gy·b (reduced to a's shape) and gy·a (reduced to b's).
          const bool se = sb != out && sa == out && per_plane(gy, bc);
          if (need_b) {
            if (se) {
              // SE scaling: gb[n,c] = Σ_hw gy·a, one plane per entry.
              gx[1] = per_plane_dot(gy, ac, sb);
            } else {
              gx[1] = reduce_to(binary("mul", binary_kind::mul, gy, ac), sb);
            }
          }
          if (need_a) {
            if (se) {
              // gy·b per plane, into gy's buffer when autograd handed it over
              // (gb above has read it already).
              tensor<T> ga = gy.owns_storage_alone() ? gy : tensor<T>::empty(gy.shape());
              scale_planes(gy, bc, ga);
              gx[0] = ga;
            } else {
              gx[0] = reduce_to(binary("mul", binary_kind::mul, gy, bc), sa);
            }
          }
        });
  } else {
    const T sign_b = kind == binary_kind::sub ? T(-1) : T(1);
    autograd::record<T>(op, y, {a, b}, [=](const tensor<T>& gy, auto& gx) {
      if (need_a) gx[0] = reduce_to(gy, sa);
      if (need_b) {
        tensor<T> g = reduce_to(gy, sb);
        if (sign_b != T(1)) {
          tensor<T> neg = tensor<T>::empty(sb);
          for (std::size_t i = 0; i < neg.numel(); ++i) neg.data()[i] = -g.data()[i];
          g = neg;
        }
        gx[1] = g;
      }
    });
  }
  return y;
}

}  // namespace detail

/// a + b with broadcasting (residual connections, biases [1,C,1,1]).
template <class T>
tensor<T> add(const tensor<T>& a, const tensor<T>& b) {
  return detail::binary("add", detail::binary_kind::add, a, b);
}

/// a − b with broadcasting.
template <class T>
tensor<T> sub(const tensor<T>& a, const tensor<T>& b) {
  return detail::binary("sub", detail::binary_kind::sub, a, b);
}

/// a ⊙ b with broadcasting (SE scaling x[N,C,H,W] ⊙ g[N,C,1,1]).
template <class T>
tensor<T> mul(const tensor<T>& a, const tensor<T>& b) {
  return detail::binary("mul", detail::binary_kind::mul, a, b);
}

/// a · x for a constant a.
template <class T>
tensor<T> scale(const tensor<T>& x, double factor) {
  const T a = T(factor);
  if (!x.defined()) throw shape_error("scale: input is an undefined tensor");
  const tensor<T> xc = x.contiguous();
  auto y = tensor<T>::empty(x.shape());
  for (std::size_t i = 0; i < y.numel(); ++i) y.data()[i] = a * xc.data()[i];
  autograd::record<T>("scale", y, {x}, [a](const tensor<T>& gy, auto& gx) {
    gx[0] = tensor<T>::empty(gy.shape());
    for (std::size_t i = 0; i < gy.numel(); ++i) gx[0].data()[i] = a * gy.data()[i];
  });
  return y;
}

/// Σ of all elements, as a one-element tensor of shape [1] (accumulated in double).
template <class T>
tensor<T> sum(const tensor<T>& x) {
  if (!x.defined()) throw shape_error("sum: input is an undefined tensor");
  double s = 0;
  for (T v : x.to_vector()) s += v;
  auto y = tensor<T>::full({1}, T(s));
  autograd::record<T>("sum", y, {x}, [shape = x.shape()](const tensor<T>& gy, auto& gx) {
    gx[0] = tensor<T>::full(shape, gy.data()[0]);
  });
  return y;
}

/// Mean of all elements, shape [1].
template <class T>
tensor<T> mean(const tensor<T>& x) {
  return scale(sum(x), T(1) / T(x.numel() ? x.numel() : 1));
}

}  // namespace nat::ops
