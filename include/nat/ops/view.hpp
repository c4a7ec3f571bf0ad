#pragma once
/// \file Differentiable shape operations: reshape, flatten, prefix slice of a parameter, centre
/// crop of a kernel (ofa_spec §2.8).
#include <cstddef>
#include <string>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

/// The same elements under shape `s` (a view when x is contiguous, else a copy).
template <class T>
tensor<T> reshape(const tensor<T>& x, const nat::shape& s) {
  if (!x.defined()) throw shape_error("reshape: input is an undefined tensor");
  if (s.numel() != x.numel())
    throw shape_error("reshape: cannot view shape " + to_string(x.shape()) + " as " + to_string(s));
  tensor<T> y = x.contiguous().detach().reshape(s);
  autograd::record<T>("reshape", y, {x},
                      [xs = x.shape()](const tensor<T>& gy, auto& gx) { gx[0] = gy.reshape(xs); });
  return y;
}

/// [N, d1, d2, …] → [N, d1·d2·…] (start_dim 1), PyTorch's flatten before the classifier.
template <class T>
tensor<T> flatten(const tensor<T>& x, std::size_t start_dim = 1) {
  if (!x.defined() || start_dim >= x.rank())
    throw shape_error("flatten: start_dim " + std::to_string(start_dim) + " is outside shape " +
                      to_string(x.shape()));
  std::vector<std::size_t> dims(x.shape().begin(), x.shape().begin() + start_dim);
  std::size_t rest = 1;
  for (std::size_t d = start_dim; d < x.rank(); ++d) rest *= x.size(d);
  dims.push_back(rest);
  return reshape(x, nat::shape(dims));
}

/// Leading block x[:l0, :l1, …] (lengths for the first lengths.size() dimensions), materialised
/// contiguous; backward scatters the gradient into the leading block of a zero tensor.
template <class T>
tensor<T> slice(const tensor<T>& x, const std::vector<std::size_t>& lengths) {
  if (!x.defined() || lengths.size() > x.rank())
    throw shape_error("slice: " + std::to_string(lengths.size()) +
                      " lengths for a tensor of shape " + to_string(x.shape()));
  tensor<T> v = x.detach();
  for (std::size_t d = 0; d < lengths.size(); ++d) {
    if (lengths[d] > x.size(d))
      throw shape_error("slice: length " + std::to_string(lengths[d]) + " of dimension " +
                        std::to_string(d) + " exceeds shape " + to_string(x.shape()));
    v = v.slice(d, lengths[d]);
  }
  // The whole tensor needs no copy.
  tensor<T> y = v.shape() == x.shape() ? x.contiguous().detach() : v.clone();
  autograd::record<T>("slice", y, {x}, [xs = x.shape(), lengths](const tensor<T>& gy, auto& gx) {
    if (gy.shape() == xs) {
      gx[0] = gy;
      return;
    }
    tensor<T> g = tensor<T>::zeros(xs);
    tensor<T> block = g;
    for (std::size_t d = 0; d < lengths.size(); ++d) block = block.slice(d, lengths[d]);
    block.copy_from(gy);
    gx[0] = g;
  });
  return y;
}

/// Leading `length` entries of dimension `dim` (the elastic layers' W[:O] / W[:, :I]).
template <class T>
tensor<T> slice(const tensor<T>& x, std::size_t dim, std::size_t length) {
  if (!x.defined() || dim >= x.rank())
    throw shape_error("slice: dimension " + std::to_string(dim) + " outside shape " +
                      to_string(x.shape()));
  std::vector<std::size_t> lengths(x.shape().begin(), x.shape().begin() + dim + 1);
  lengths[dim] = length;
  return slice(x, lengths);
}

/// Centre size×size window of the last two dimensions (offset k/2 − size/2, OFA's kernel crop);
/// backward zero-pads the gradient back to k×k.
template <class T>
tensor<T> centre_crop(const tensor<T>& x, std::size_t size) {
  if (!x.defined() || x.rank() < 2)
    throw shape_error("centre_crop: expected a tensor of rank >= 2, got shape " +
                      to_string(x.shape()));
  const std::size_t r = x.rank(), kh = x.size(r - 2), kw = x.size(r - 1);
  if (size > kh || size > kw)
    throw shape_error("centre_crop: window " + std::to_string(size) + "x" + std::to_string(size) +
                      " is larger than shape " + to_string(x.shape()));
  const std::size_t oh = kh / 2 - size / 2, ow = kw / 2 - size / 2;
  const tensor<T> y = x.detach().narrow(r - 2, oh, size).narrow(r - 1, ow, size).clone();
  tensor<T> out = y;
  autograd::record<T>("centre_crop", out, {x},
                      [xs = x.shape(), r, oh, ow, size](const tensor<T>& gy, auto& gx) {
                        tensor<T> g = tensor<T>::zeros(xs);
                        g.narrow(r - 2, oh, size).narrow(r - 1, ow, size).copy_from(gy);
                        gx[0] = g;
                      });
  return out;
}

}  // namespace nat::ops
