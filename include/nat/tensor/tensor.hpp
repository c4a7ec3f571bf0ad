#pragma once
/// \file nat::tensor<T>: a cheap handle on shared, strided, 64-byte aligned storage, with the
/// autograd bookkeeping (requires_grad, grad, the node that produced it) the ops record into.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/device.hpp"
#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/tensor/shape.hpp"
#include "nat/tensor/storage.hpp"

namespace nat {

template <class T>
class tensor;

namespace detail {

/// One recorded op (or a leaf that wants a gradient) in the autograd graph. Lives in the tensor
/// layer because every tensor carries one; nat::autograd walks them (flashlight's SharedGrad).
template <class T>
struct grad_node {
  /// Computes the inputs' gradients from the output's: fills grad_inputs[i] (pre-sized, empty)
  /// for each input i that needs one; leaves it empty to contribute nothing.
  using backward_fn =
      std::function<void(const tensor<T>& grad_output, std::vector<tensor<T>>& grad_inputs)>;

  bool is_leaf = true;
  bool released = false;  ///< set once backward ran through it and freed its closure
  const char* op = "leaf";
  tensor<T> grad;  ///< leaf: accumulated gradient; inner node: pending gradient during backward
  std::vector<std::shared_ptr<grad_node>> inputs;  ///< null where an input needs no gradient
  std::vector<nat::shape> input_shapes;
  backward_fn backward;

  grad_node() = default;
  grad_node(const grad_node&) = delete;
  grad_node& operator=(const grad_node&) = delete;
  // Unlinks the chain iteratively: a deep graph dropped without backward (evaluation with grad
  // mode on) must not destroy its nodes by recursion and overflow the stack.
  ~grad_node() {
    std::vector<std::shared_ptr<grad_node>> pending = std::move(inputs);
    while (!pending.empty()) {
      std::shared_ptr<grad_node> n = std::move(pending.back());
      pending.pop_back();
      if (n && n.use_count() == 1) {
        for (auto& c : n->inputs) pending.push_back(std::move(c));
        n->inputs.clear();
      }
    }
  }
};

/// Strides of a contiguous (row-major) layout.
inline std::array<std::size_t, shape::max_rank> contiguous_strides(const nat::shape& s) {
  std::array<std::size_t, shape::max_rank> st{};
  std::size_t acc = 1;
  for (std::size_t i = s.rank(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

/// Calls f(offset) for every element of a strided layout, in row-major logical order.
template <class F>
void for_each_offset(const nat::shape& s, const std::array<std::size_t, shape::max_rank>& st,
                     F&& f) {
  const std::size_t n = s.numel();
  if (n == 0) return;
  const std::size_t r = s.rank();
  if (r == 0) {
    f(std::size_t(0));
    return;
  }
  std::array<std::size_t, shape::max_rank> idx{};
  const std::size_t inner = s[r - 1], inner_stride = st[r - 1];
  std::size_t base = 0;
  for (std::size_t done = 0; done < n; done += inner) {
    for (std::size_t j = 0; j < inner; ++j) f(base + j * inner_stride);
    // Advance the outer index (odometer), updating the base offset incrementally.
    for (std::size_t d = r - 1; d-- > 0;) {
      if (++idx[d] < s[d]) {
        base += st[d];
        break;
      }
      base -= (s[d] - 1) * st[d];
      idx[d] = 0;
    }
  }
}

}  // namespace detail

/// N-dimensional array of T (float or double) on a device, sharing storage between views.
///
/// Copying a tensor copies the handle, not the data: views (narrow, slice, reshape) share storage
/// and autograd state is shared by handle copies. Element (i0, …) lives at
/// data()[i0*strides()[0] + …]. Views made by the member functions are plain views, not recorded
/// by autograd; the differentiable views are nat::ops::slice / reshape / flatten.
template <class T>
class tensor {
 public:
  using value_type = T;
  using strides_type = std::array<std::size_t, nat::shape::max_rank>;

  /// An undefined tensor (no storage); defined() is false.
  tensor() = default;

  // ---- creation -------------------------------------------------------------------------------

  /// Uninitialised contiguous tensor (storage from the pool: use when every element is written).
  static tensor empty(const nat::shape& s, nat::device dev = nat::device::cpu) {
    tensor t;
    t.storage_ = std::make_shared<detail::storage<T>>(s.numel(), dev);
    t.shape_ = s;
    t.strides_ = detail::contiguous_strides(s);
    return t;
  }
  /// Tensor of zeros.
  static tensor zeros(const nat::shape& s) { return full(s, T(0)); }
  /// Tensor of ones.
  static tensor ones(const nat::shape& s) { return full(s, T(1)); }
  /// Tensor with every element equal to `value`.
  static tensor full(const nat::shape& s, T value) {
    tensor t = empty(s);
    std::fill_n(t.data(), t.numel(), value);
    return t;
  }
  /// Standard-normal entries times `stddev` plus `mean`, from nat::rng(seed) (portable).
  static tensor randn(const nat::shape& s, std::uint64_t seed, T mean = T(0), T stddev = T(1)) {
    nat::rng g(seed);
    return randn(s, g, mean, stddev);
  }
  /// Normal entries drawn from `g`.
  static tensor randn(const nat::shape& s, nat::rng& g, T mean = T(0), T stddev = T(1)) {
    tensor t = empty(s);
    T* p = t.data();
    for (std::size_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(g.normal(mean, stddev));
    return t;
  }
  /// Uniform entries in [lo, hi) from nat::rng(seed).
  static tensor uniform(const nat::shape& s, std::uint64_t seed, T lo = T(0), T hi = T(1)) {
    nat::rng g(seed);
    tensor t = empty(s);
    T* p = t.data();
    for (std::size_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(g.uniform(lo, hi));
    return t;
  }
  /// Contiguous tensor holding `values` (row-major); their count must equal s.numel().
  static tensor from_vector(const nat::shape& s, const std::vector<T>& values) {
    if (values.size() != s.numel())
      throw shape_error("tensor::from_vector: shape " + to_string(s) + " needs " +
                        std::to_string(s.numel()) + " values, got " +
                        std::to_string(values.size()));
    tensor t = empty(s);
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }

  // ---- geometry -------------------------------------------------------------------------------

  /// False for a default-constructed tensor.
  bool defined() const { return storage_ != nullptr; }
  /// Extents.
  const nat::shape& shape() const { return shape_; }
  /// Extent of dimension i.
  std::size_t size(std::size_t i) const { return shape_[i]; }
  /// Number of dimensions.
  std::size_t rank() const { return shape_.rank(); }
  /// Number of elements.
  std::size_t numel() const { return defined() ? shape_.numel() : 0; }
  /// Element strides per dimension.
  const strides_type& strides() const { return strides_; }
  /// Offset of the first element in the shared storage, in elements.
  std::size_t offset() const { return offset_; }
  /// Pointer to the first element (the view's origin; step by strides() when not contiguous).
  T* data() const { return storage_ ? storage_->data() + offset_ : nullptr; }
  /// Where the storage lives.
  nat::device device() const { return storage_ ? storage_->device() : nat::device::cpu; }
  /// True when elements are laid out row-major without gaps.
  bool is_contiguous() const {
    std::size_t acc = 1;
    for (std::size_t i = shape_.rank(); i-- > 0;) {
      if (shape_[i] != 1 && strides_[i] != acc) return false;
      acc *= shape_[i];
    }
    return true;
  }
  /// True when this handle is the only one on its storage (autograd adopts such buffers as
  /// gradients instead of copying them).
  bool owns_storage_alone() const { return storage_ && storage_.use_count() == 1; }
  /// True when both handles view the same storage block.
  bool shares_storage_with(const tensor& o) const { return storage_ && storage_ == o.storage_; }

  /// Element reference by index (bounds unchecked in release builds).
  template <class... I>
  T& at(I... idx) const {
    static_assert(sizeof...(I) <= nat::shape::max_rank, "tensor::at: too many indices");
    const std::size_t ix[] = {static_cast<std::size_t>(idx)...};
    std::size_t off = 0;
    for (std::size_t d = 0; d < sizeof...(I); ++d) off += ix[d] * strides_[d];
    return data()[off];
  }
  /// The single element of a one-element tensor.
  T item() const {
    if (numel() != 1)
      throw shape_error("tensor::item: expected one element, got shape " + to_string(shape_));
    return *data();
  }
  /// A row-major copy of the elements.
  std::vector<T> to_vector() const {
    std::vector<T> out;
    out.reserve(numel());
    if (!defined()) return out;
    const T* p = data();
    detail::for_each_offset(shape_, strides_, [&](std::size_t o) { out.push_back(p[o]); });
    return out;
  }

  // ---- views and copies -----------------------------------------------------------------------

  /// View of `length` entries of dimension `dim` starting at `start` (no copy).
  tensor narrow(std::size_t dim, std::size_t start, std::size_t length) const {
    if (dim >= rank() || start + length > shape_[dim])
      throw shape_error("tensor::narrow: range [" + std::to_string(start) + ", " +
                        std::to_string(start + length) + ") of dimension " + std::to_string(dim) +
                        " is outside shape " + to_string(shape_));
    tensor v = plain_view();
    v.offset_ += start * strides_[dim];
    v.shape_[dim] = length;
    return v;
  }
  /// Leading `length` entries of dimension `dim` (the prefix view elastic layers use).
  tensor slice(std::size_t dim, std::size_t length) const { return narrow(dim, 0, length); }
  /// Same elements under another shape (no copy); needs contiguous data.
  tensor reshape(const nat::shape& s) const {
    if (s.numel() != numel())
      throw shape_error("tensor::reshape: cannot view shape " + to_string(shape_) + " (" +
                        std::to_string(numel()) + " elements) as " + to_string(s));
    if (!is_contiguous())
      throw shape_error("tensor::reshape: needs a contiguous tensor, got shape " +
                        to_string(shape_) + " with non-contiguous strides; call contiguous()");
    tensor v = plain_view();
    v.shape_ = s;
    v.strides_ = detail::contiguous_strides(s);
    return v;
  }
  /// This tensor when contiguous, else a contiguous copy (not recorded by autograd).
  tensor contiguous() const {
    if (!defined() || is_contiguous()) return *this;
    return clone();
  }
  /// A contiguous copy with fresh storage (no autograd history).
  tensor clone() const {
    tensor t = empty(shape_, device());
    copy_to_contiguous(t.data());
    return t;
  }
  /// Same storage, no autograd history and no gradient.
  tensor detach() const { return plain_view(); }
  /// Copy on `dev`; the same tensor when it is already there.
  tensor to(nat::device dev) const {
    if (dev == device()) return *this;
    throw not_supported("tensor::to: copies to " + to_string(dev) +
                        " need the nat::cuda build (NAT_WITH_CUDA=ON)");
  }

  /// Sets every element (through the view) to `value`.
  void fill(T value) const {
    T* p = data();
    if (is_contiguous()) {
      std::fill_n(p, numel(), value);
      return;
    }
    detail::for_each_offset(shape_, strides_, [&](std::size_t o) { p[o] = value; });
  }
  /// Copies src's elements into this view (shapes must match).
  void copy_from(const tensor& src) const {
    if (src.shape() != shape_)
      throw shape_error("tensor::copy_from: destination shape " + to_string(shape_) +
                        ", source shape " + to_string(src.shape()));
    if (is_contiguous()) {
      src.copy_to_contiguous(data());
      return;
    }
    const std::vector<T> v = src.to_vector();
    T* p = data();
    std::size_t i = 0;
    detail::for_each_offset(shape_, strides_, [&](std::size_t o) { p[o] = v[i++]; });
  }

  // ---- autograd -------------------------------------------------------------------------------

  /// True when gradients flow to (leaf) or through (op result) this tensor.
  bool requires_grad() const { return node_ != nullptr; }
  /// Marks a leaf (a parameter) as wanting a gradient, or stops it; only leaves can be changed.
  tensor& set_requires_grad(bool on) {
    if (node_ && !node_->is_leaf) {
      if (on) return *this;
      throw error(std::string("tensor::set_requires_grad(false): tensor is the result of op '") +
                  node_->op + "'; use detach()");
    }
    if (on && !node_) node_ = std::make_shared<detail::grad_node<T>>();
    if (!on) node_.reset();
    return *this;
  }
  /// Accumulated gradient of a leaf (undefined before any backward reached it).
  tensor grad() const { return node_ ? node_->grad : tensor(); }
  /// Forgets the accumulated gradient (the next backward starts from zero).
  void zero_grad() const {
    if (node_) node_->grad = tensor();
  }
  /// True unless this tensor is the recorded result of an op.
  bool is_leaf() const { return !node_ || node_->is_leaf; }

  /// Internal: the autograd node (null when no gradient is wanted). Used by nat::autograd.
  const std::shared_ptr<detail::grad_node<T>>& grad_node() const { return node_; }
  /// Internal: attaches the node recorded by an op.
  void set_grad_node(std::shared_ptr<detail::grad_node<T>> n) { node_ = std::move(n); }

 private:
  tensor plain_view() const {
    tensor v;
    v.storage_ = storage_;
    v.shape_ = shape_;
    v.strides_ = strides_;
    v.offset_ = offset_;
    return v;
  }
  void copy_to_contiguous(T* dst) const {
    if (!defined()) return;
    const T* p = data();
    if (is_contiguous()) {
      std::memcpy(dst, p, numel() * sizeof(T));
      return;
    }
    detail::for_each_offset(shape_, strides_, [&](std::size_t o) { *dst++ = p[o]; });
  }

  std::shared_ptr<detail::storage<T>> storage_;
  nat::shape shape_;
  strides_type strides_{};
  std::size_t offset_ = 0;
  std::shared_ptr<detail::grad_node<T>> node_;
};

/// Single-precision tensor, the everyday type.
using tensorf = tensor<float>;
/// Double-precision tensor, used by gradient checks.
using tensord = tensor<double>;

}  // namespace nat
