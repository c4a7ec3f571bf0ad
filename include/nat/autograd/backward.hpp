#pragma once
/// \file Recording ops into the graph and reverse-mode backward over one topological order.
///
/// flashlight's design: each op result carries one node holding the op's backward closure and
/// its inputs' nodes. backward() sorts the reachable nodes once with an explicit stack (deep
/// graphs must not overflow the call stack), walks them outputs-first, accumulates gradients into
/// leaves (across backward calls, so gradients of several sampled subnets add up) and frees each
/// node's closure and inputs as soon as it ran.
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nat/autograd/grad_mode.hpp"
#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::autograd {

/// The closure an op records: given the gradient of its output (always contiguous), fill
/// grad_inputs[i] (pre-sized, empty) with the gradient of input i, of input i's shape; leave it
/// empty when not needed. When grad_output.owns_storage_alone(), nothing else will read it and
/// the closure may reuse its buffer for an input gradient (elementwise backwards do).
template <class T>
using backward_fn = typename nat::detail::grad_node<T>::backward_fn;

/// True when an op on these inputs must record a node: grad mode is on and an input wants grad.
template <class T, class... Rest>
bool needs_graph(const tensor<T>& first, const Rest&... rest) {
  return grad_enabled() && (first.requires_grad() || ... || rest.requires_grad());
}

/// Records `out` as the result of op `op` on `inputs` with backward `fn` (no-op when
/// needs_graph is false). The closure must not capture `out` with its history (that would be a
/// reference cycle): capture `out.detach()` if the backward needs the output's values.
template <class T, class Fn>
void record(const char* op, tensor<T>& out, std::initializer_list<tensor<T>> inputs, Fn&& fn) {
  if (!grad_enabled()) return;
  bool any = false;
  for (const auto& in : inputs) any = any || in.requires_grad();
  if (!any) return;
  auto node = std::make_shared<nat::detail::grad_node<T>>();
  node->is_leaf = false;
  node->op = op;
  node->inputs.reserve(inputs.size());
  node->input_shapes.reserve(inputs.size());
  for (const auto& in : inputs) {
    node->inputs.push_back(in.requires_grad() ? in.grad_node() : nullptr);
    node->input_shapes.push_back(in.shape());
  }
  node->backward = std::forward<Fn>(fn);
  out.set_grad_node(std::move(node));
}

namespace detail {

/// Elements per task of the gradient additions: large enough to be worth a thread.
constexpr std::size_t kAddGrain = std::size_t(1) << 15;

// dst (contiguous) += src.
template <class T>
void add_into(const tensor<T>& dst, const tensor<T>& src) {
  T* d = dst.data();
  const std::size_t n = dst.numel();
  if (src.is_contiguous()) {
    const T* s = src.data();
    nat::parallel_for(0, n, kAddGrain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) d[i] += s[i];
    });
    return;
  }
  const std::vector<T> v = src.to_vector();
  for (std::size_t i = 0; i < v.size(); ++i) d[i] += v[i];
}

// a + b into a fresh contiguous buffer, in one pass when both are contiguous.
template <class T>
tensor<T> sum_of(const tensor<T>& a, const tensor<T>& b) {
  if (!a.is_contiguous() || !b.is_contiguous()) {
    tensor<T> out = a.clone();
    add_into(out, b);
    return out;
  }
  tensor<T> out = tensor<T>::empty(a.shape());
  const T* x = a.data();
  const T* y = b.data();
  T* o = out.data();
  nat::parallel_for(0, out.numel(), kAddGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) o[i] = x[i] + y[i];
  });
  return out;
}

// Gradients are added in place only into a buffer no other handle sees: an op may hand one
// tensor to several inputs (add passes gy through to both), so a pending gradient can be shared,
// and adding into it would corrupt the other consumer. Leaves own a private contiguous buffer
// (copied on adoption when shared); inner nodes adopt what they get and copy only when a second
// contribution arrives while the first is still shared.
template <class T>
void accumulate(nat::detail::grad_node<T>& n, tensor<T> g) {
  if (!n.grad.defined()) {
    if (n.is_leaf)
      // A fresh buffer nobody else holds becomes the gradient as is; anything shared is copied.
      n.grad = g.owns_storage_alone() && g.is_contiguous() ? std::move(g) : g.clone();
    else
      n.grad = std::move(g);
    return;
  }
  if (n.is_leaf || (n.grad.owns_storage_alone() && n.grad.is_contiguous())) {
    add_into(n.grad, g);
    return;
  }
  n.grad = sum_of(n.grad, g);
}

template <class T>
void release(nat::detail::grad_node<T>& n) {
  n.backward = nullptr;
  n.inputs.clear();
  n.input_shapes.clear();
  n.grad = tensor<T>();
  n.released = true;
}

}  // namespace detail

/// Backpropagates `grad_output` (the gradient of some scalar with respect to `output`, same
/// shape) into every leaf that requires grad; leaf gradients accumulate. Frees the graph.
template <class T>
void backward(const tensor<T>& output, const tensor<T>& grad_output) {
  using node_t = nat::detail::grad_node<T>;
  const auto& root = output.grad_node();
  if (!root)
    throw error("autograd::backward: the tensor of shape " + to_string(output.shape()) +
                " does not require grad (no input of its ops had requires_grad set)");
  if (root->released)
    throw error(std::string("autograd::backward: the graph behind this '") + root->op +
                "' result was already freed by an earlier backward; run the forward again");
  if (grad_output.shape() != output.shape())
    throw shape_error("autograd::backward: grad_output has shape " +
                      to_string(grad_output.shape()) + ", output has shape " +
                      to_string(output.shape()));

  // Post-order DFS with an explicit stack: inputs come before the ops that use them.
  // `order` holds owning pointers: releasing a node drops its inputs, and an intermediate
  // result whose tensor is gone is kept alive only by the graph.
  std::vector<std::shared_ptr<node_t>> order;
  std::unordered_set<node_t*> seen;
  std::vector<std::pair<std::shared_ptr<node_t>, std::size_t>> stack;
  stack.emplace_back(root, 0);
  seen.insert(root.get());
  while (!stack.empty()) {
    node_t* n = stack.back().first.get();
    const std::size_t i = stack.back().second;
    if (i < n->inputs.size()) {
      ++stack.back().second;
      const auto& c = n->inputs[i];
      if (c && seen.insert(c.get()).second) stack.emplace_back(c, 0);
    } else {
      order.push_back(std::move(stack.back().first));
      stack.pop_back();
    }
  }

  detail::accumulate(*root, grad_output);
  std::vector<tensor<T>> grads;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_t& n = **it;
    if (n.is_leaf) continue;
    if (n.released)
      throw error(std::string("autograd::backward: reached a '") + n.op +
                  "' node whose graph was already freed by an earlier backward");
    if (n.grad.defined()) {
      grads.assign(n.inputs.size(), tensor<T>());
      // Closures may index gy densely. The node gives its pending gradient up, so a closure that
      // finds gy.owns_storage_alone() may write its input gradient into gy's buffer.
      tensor<T> g = std::move(n.grad);
      n.grad = tensor<T>();
      if (!g.is_contiguous()) g = g.contiguous();
      n.backward(g, grads);
      for (std::size_t k = 0; k < n.inputs.size(); ++k) {
        if (!n.inputs[k] || !grads[k].defined()) continue;
        if (grads[k].shape() != n.input_shapes[k])
          throw shape_error(std::string("autograd::backward: op '") + n.op + "' produced a " +
                            "gradient of shape " + to_string(grads[k].shape()) + " for input " +
                            std::to_string(k) + " of shape " + to_string(n.input_shapes[k]));
        detail::accumulate(*n.inputs[k], std::move(grads[k]));
      }
    }
    detail::release(n);
  }
}

/// Backpropagates from a one-element loss (gradient 1).
template <class T>
void backward(const tensor<T>& loss) {
  if (loss.numel() != 1)
    throw shape_error("autograd::backward: loss must have one element, got shape " +
                      to_string(loss.shape()) + "; pass grad_output for non-scalar outputs");
  backward(loss, tensor<T>::ones(loss.shape()));
}

}  // namespace nat::autograd
