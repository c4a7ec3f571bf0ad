#pragma once
/// \file Whether ops record the autograd graph on this thread, and the RAII guard that stops it.

namespace nat::autograd {

namespace detail {
// Per thread, like PyTorch's grad mode: evaluation on one thread must not stop recording on
// another. A depth counter so that guards nest.
inline int& no_grad_depth() {
  thread_local int depth = 0;
  return depth;
}
}  // namespace detail

/// True when ops on this thread record nodes for backward.
inline bool grad_enabled() { return detail::no_grad_depth() == 0; }

/// RAII guard: while alive, ops on this thread record nothing (evaluation, BN recalibration,
/// optimiser updates).
class no_grad {
 public:
  no_grad() { ++detail::no_grad_depth(); }
  ~no_grad() { --detail::no_grad_depth(); }
  no_grad(const no_grad&) = delete;
  no_grad& operator=(const no_grad&) = delete;
};

}  // namespace nat::autograd
