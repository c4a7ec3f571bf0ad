#pragma once
/// \file cuDNN presence checks: prove at run time that the linked cuDNN is the major version we
/// built against (9). No cuDNN convolution is used yet; the elastic depthwise conv is hand-written
/// (ofa_spec §2.8: cuDNN with groups = C is slow).
#include <cstddef>
#include <nat/ops/cuda/status.hpp>

namespace nat::ops::cuda {

/// cudnnGetVersion() of the loaded library (e.g. 91300 for 9.13.0); needs no device.
std::size_t cudnn_runtime_version();

/// CUDNN_VERSION of the headers nat::cuda was compiled with.
std::size_t cudnn_compiled_version();

/// Creates and destroys a cuDNN handle on the current device (needs a device).
status cudnn_handle_check();

}  // namespace nat::ops::cuda
