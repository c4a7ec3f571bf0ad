#pragma once
/// \file Status codes returned by every nat::cuda entry point, and their mapping to
/// nat::device_error. Device code and the launchers never throw (CUTLASS lesson); the host-side
/// check() helpers turn a non-ok status into an exception at the boundary where a C++ caller wants
/// one.
#include <nat/core/error.hpp>
#include <string>

namespace nat::ops::cuda {

/// Outcome of a nat::cuda call.
enum class status : int {
  ok = 0,            ///< success
  invalid_argument,  ///< a size, pointer or kernel size the launcher does not accept
  no_device,         ///< no CUDA driver or no device
  cuda_error,        ///< the CUDA runtime reported an error (see last_error_message())
  cublas_error,      ///< cuBLAS reported an error
  cudnn_error,       ///< cuDNN reported an error
  out_of_memory,     ///< a device allocation failed
};

/// Short name of a status, for messages.
inline const char* to_string(status s) {
  switch (s) {
    case status::ok:
      return "ok";
    case status::invalid_argument:
      return "invalid argument";
    case status::no_device:
      return "no CUDA device";
    case status::cuda_error:
      return "CUDA runtime error";
    case status::cublas_error:
      return "cuBLAS error";
    case status::cudnn_error:
      return "cuDNN error";
    case status::out_of_memory:
      return "device out of memory";
  }
  return "unknown status";
}

/// Detail of the last non-ok status set on this host thread by nat::cuda (e.g. the CUDA error
/// string); empty when none. Defined in cuda/status.cu.
const char* last_error_message();

/// Throws nat::device_error naming `where` when `s` is not ok; the host-side face of every
/// launcher.
inline void check(status s, const char* where) {
  if (s == status::ok) return;
  std::string msg = std::string(where) + ": " + to_string(s);
  const char* detail = last_error_message();
  if (detail != nullptr && detail[0] != '\0') msg += std::string(" (") + detail + ")";
  throw device_error(msg);
}

}  // namespace nat::ops::cuda
