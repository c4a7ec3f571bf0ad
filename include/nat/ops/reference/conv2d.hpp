#pragma once
/// \file Naive grouped 2-D convolution (forward, input and weight gradient): the test oracle for
/// nat::ops::cpu::conv2d_*. Literal loops over the definition, accumulating in double.
#include <cstddef>

#include "nat/ops/cpu/conv2d.hpp"

namespace nat::ops::reference {

/// y[n,o,p,q] = b[o] + Σ_{ci,i,j} x[n, g*cg+ci, p*s-pad+i, q*s-pad+j] · w[o,ci,i,j], g = o / og.
template <class T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, const conv2d_shape& g) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), cg = g.cg(), og = g.og();
  for (std::size_t n = 0; n < g.n; ++n)
    for (std::size_t o = 0; o < g.o; ++o)
      for (std::size_t p = 0; p < oh; ++p)
        for (std::size_t q = 0; q < ow; ++q) {
          double acc = b ? double(b[o]) : 0.0;
          const std::size_t grp = o / og;
          for (std::size_t ci = 0; ci < cg; ++ci)
            for (std::size_t i = 0; i < g.kh; ++i)
              for (std::size_t j = 0; j < g.kw; ++j) {
                const long ih = long(p * g.stride + i) - long(g.pad);
                const long iw = long(q * g.stride + j) - long(g.pad);
                if (ih < 0 || iw < 0 || ih >= long(g.h) || iw >= long(g.w)) continue;
                acc += double(x[((n * g.c + grp * cg + ci) * g.h + ih) * g.w + iw]) *
                       double(w[((o * cg + ci) * g.kh + i) * g.kw + j]);
              }
          y[((n * g.o + o) * oh + p) * ow + q] = T(acc);
        }
}

/// gx = ∂(Σ gy·y)/∂x, overwritten.
template <class T>
void conv2d_backward_input(const T* gy, const T* w, T* gx, const conv2d_shape& g) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), cg = g.cg(), og = g.og();
  for (std::size_t n = 0; n < g.n; ++n)
    for (std::size_t c = 0; c < g.c; ++c)
      for (std::size_t ih = 0; ih < g.h; ++ih)
        for (std::size_t iw = 0; iw < g.w; ++iw) {
          double acc = 0;
          const std::size_t grp = c / cg, ci = c % cg;
          for (std::size_t oc = 0; oc < og; ++oc)
            for (std::size_t i = 0; i < g.kh; ++i)
              for (std::size_t j = 0; j < g.kw; ++j) {
                const long pn = long(ih + g.pad) - long(i), qn = long(iw + g.pad) - long(j);
                if (pn < 0 || qn < 0 || pn % long(g.stride) || qn % long(g.stride)) continue;
                const long p = pn / long(g.stride), q = qn / long(g.stride);
                if (p >= long(oh) || q >= long(ow)) continue;
                const std::size_t o = grp * og + oc;
                acc += double(gy[((n * g.o + o) * oh + p) * ow + q]) *
                       double(w[((o * cg + ci) * g.kh + i) * g.kw + j]);
              }
          gx[((n * g.c + c) * g.h + ih) * g.w + iw] = T(acc);
        }
}

/// gw, gb (when not null) = weight and bias gradients, overwritten.
template <class T>
void conv2d_backward_weight(const T* x, const T* gy, T* gw, T* gb, const conv2d_shape& g) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), cg = g.cg(), og = g.og();
  for (std::size_t o = 0; o < g.o; ++o) {
    const std::size_t grp = o / og;
    for (std::size_t ci = 0; ci < cg; ++ci)
      for (std::size_t i = 0; i < g.kh; ++i)
        for (std::size_t j = 0; j < g.kw; ++j) {
          double acc = 0;
          for (std::size_t n = 0; n < g.n; ++n)
            for (std::size_t p = 0; p < oh; ++p)
              for (std::size_t q = 0; q < ow; ++q) {
                const long ih = long(p * g.stride + i) - long(g.pad);
                const long iw = long(q * g.stride + j) - long(g.pad);
                if (ih < 0 || iw < 0 || ih >= long(g.h) || iw >= long(g.w)) continue;
                acc += double(gy[((n * g.o + o) * oh + p) * ow + q]) *
                       double(x[((n * g.c + grp * cg + ci) * g.h + ih) * g.w + iw]);
              }
          gw[((o * cg + ci) * g.kh + i) * g.kw + j] = T(acc);
        }
    if (gb) {
      double acc = 0;
      for (std::size_t n = 0; n < g.n; ++n)
        for (std::size_t pq = 0; pq < oh * ow; ++pq)
          acc += double(gy[(n * g.o + o) * oh * ow + pq]);
      gb[o] = T(acc);
    }
  }
}

}  // namespace nat::ops::reference
