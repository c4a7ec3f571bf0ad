#pragma once
/// \file Helpers shared by the op front ends: argument checks with the house error messages.
#include <cstddef>
#include <string>

#include "nat/core/error.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops::detail {

/// Throws shape_error unless `t` is defined, on the CPU and of rank `rank`.
template <class T>
void require_rank(const char* op, const char* what, const tensor<T>& t, std::size_t rank) {
  if (!t.defined()) throw shape_error(std::string(op) + ": " + what + " is an undefined tensor");
  if (t.device() != nat::device::cpu)
    throw device_error(std::string(op) + ": " + what + " lives on " + to_string(t.device()) +
                       ", this build computes on cpu");
  if (t.rank() != rank)
    throw shape_error(std::string(op) + ": expected " + what + " of rank " + std::to_string(rank) +
                      ", got shape " + to_string(t.shape()));
}

/// Throws shape_error unless a and b have the same shape.
template <class T>
void require_same_shape(const char* op, const char* a_name, const tensor<T>& a, const char* b_name,
                        const tensor<T>& b) {
  if (a.shape() != b.shape())
    throw shape_error(std::string(op) + ": " + a_name + " has shape " + to_string(a.shape()) +
                      ", " + b_name + " has shape " + to_string(b.shape()) + "; they must match");
}

/// Grain for elementwise parallel loops: big enough that a task is worth scheduling.
inline std::size_t elementwise_grain() { return 1 << 15; }

}  // namespace nat::ops::detail
