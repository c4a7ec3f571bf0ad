// cuDNN presence checks (include/nat/ops/cuda/cudnn.hpp): proves nat::cuda links cuDNN 9.
#include <cudnn.h>

#include <nat/ops/cuda/cudnn.hpp>

#include "common.cuh"

static_assert(CUDNN_MAJOR >= 9, "nat::cuda is written against cuDNN 9");

namespace nat::ops::cuda {

std::size_t cudnn_runtime_version() { return cudnnGetVersion(); }

std::size_t cudnn_compiled_version() { return CUDNN_VERSION; }

status cudnn_handle_check() {
  cudnnHandle_t handle = nullptr;
  const cudnnStatus_t st = cudnnCreate(&handle);
  if (st != CUDNN_STATUS_SUCCESS) {
    detail::set_last_error(cudnnGetErrorString(st));
    return status::cudnn_error;
  }
  cudnnDestroy(handle);
  return status::ok;
}

}  // namespace nat::ops::cuda
