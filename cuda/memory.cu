// Device discovery and memory helpers (include/nat/ops/cuda/memory.hpp).
#include <nat/ops/cuda/memory.hpp>
#include <string>

#include "common.cuh"

namespace nat::ops::cuda {

int device_count() {
  int n = 0;
  // No driver or no device is an answer (0), not an error: CPU-only machines call this to skip.
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the non-sticky error so later calls start clean
    return 0;
  }
  return n;
}

const char* device_name(int ordinal) {
  thread_local std::string name;
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess) {
    cudaGetLastError();
    name.clear();
  } else {
    name = prop.name;
  }
  return name.c_str();
}

status device_malloc(void** ptr, std::size_t bytes) {
  if (ptr == nullptr) return detail::invalid("device_malloc: ptr is null");
  *ptr = nullptr;
  if (bytes == 0) return status::ok;
  return detail::from_cuda(cudaMalloc(ptr, bytes));
}

status device_free(void* ptr) {
  if (ptr == nullptr) return status::ok;
  return detail::from_cuda(cudaFree(ptr));
}

status copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return status::ok;
  return detail::from_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

status copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return status::ok;
  return detail::from_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

status device_zero(void* ptr, std::size_t bytes, void* stream) {
  if (bytes == 0) return status::ok;
  return detail::from_cuda(cudaMemsetAsync(ptr, 0, bytes, detail::to_stream(stream)));
}

status synchronize() { return detail::from_cuda(cudaDeviceSynchronize()); }

}  // namespace nat::ops::cuda
