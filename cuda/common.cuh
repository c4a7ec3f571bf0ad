#pragma once
// Internals shared by the nat::cuda sources: CUDA error → status mapping and a deterministic block
// sum.
#include <cuda_runtime.h>

#include <nat/ops/cuda/status.hpp>

#include "device_utils.cuh"

namespace nat::ops::cuda::detail {

/// Records the detail string last_error_message() returns on this host thread (status.cu).
void set_last_error(const char* message);

/// Maps a CUDA runtime result to a status, recording its text.
inline status from_cuda(cudaError_t e) {
  if (e == cudaSuccess) return status::ok;
  set_last_error(cudaGetErrorString(e));
  if (e == cudaErrorMemoryAllocation) return status::out_of_memory;
  if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) return status::no_device;
  return status::cuda_error;
}

/// The status of the launch just issued (configuration errors, missing kernel image for this arch).
inline status launch_status() { return from_cuda(cudaGetLastError()); }

/// The opaque stream of the public prototypes.
inline cudaStream_t to_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

/// Records an argument error and returns status::invalid_argument.
inline status invalid(const char* message) {
  set_last_error(message);
  return status::invalid_argument;
}

/// Grid size for a grid-stride loop over `total` elements.
inline unsigned grid_for(long long total, int block) {
  long long g = (total + block - 1) / block;
  if (g < 1) g = 1;
  return static_cast<unsigned>(g > 65535LL * 16 ? 65535LL * 16 : g);
}

}  // namespace nat::ops::cuda::detail
