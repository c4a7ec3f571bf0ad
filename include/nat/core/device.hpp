#pragma once
/// \file Where a tensor's storage lives; carried at run time.
#include <string>

namespace nat {

/// Device tag of a tensor's storage.
enum class device { cpu, cuda };

/// Human-readable name, used in error messages.
inline std::string to_string(device d) { return d == device::cpu ? "cpu" : "cuda"; }

}  // namespace nat
