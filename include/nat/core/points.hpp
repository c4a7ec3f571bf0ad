#pragma once
/// \file The plain vocabulary types at the boundary of evo, metrics and surrogate.
#include <vector>

namespace nat {

/// A set of points, one row per point (design vectors, objective vectors, features).
using points = std::vector<std::vector<double>>;

}  // namespace nat
