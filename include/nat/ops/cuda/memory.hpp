#pragma once
/// \file Device discovery, memory and stream helpers of the CUDA back end (definitions in
/// cuda/memory.cu). Plain pointers and an opaque `void* stream` (nullptr = the default stream) keep
/// CUDA types out of the public headers.
#include <cstddef>
#include <nat/ops/cuda/status.hpp>
#include <utility>
#include <vector>

namespace nat::ops::cuda {

/// Number of usable CUDA devices; 0 (never an exception) when there is no driver, no device or any
/// error.
int device_count();

/// Name of device `ordinal` ("" when it cannot be queried).
const char* device_name(int ordinal);

/// Allocates `bytes` of device memory into `*ptr` (nullptr for 0 bytes).
status device_malloc(void** ptr, std::size_t bytes);

/// Frees memory from device_malloc; nullptr is a no-op.
status device_free(void* ptr);

/// Copies `bytes` from host to device (synchronous).
status copy_to_device(void* dst, const void* src, std::size_t bytes);

/// Copies `bytes` from device to host (synchronous).
status copy_to_host(void* dst, const void* src, std::size_t bytes);

/// Sets `bytes` of device memory to zero on `stream`.
status device_zero(void* ptr, std::size_t bytes, void* stream);

/// Waits for all work on the current device; reports any asynchronous kernel error.
status synchronize();

/// Owning device array of T (move-only); throws nat::device_error on failure. Host-side convenience
/// for tests, benchmarks and the tensor layer.
template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  /// Allocates `n` elements (uninitialised).
  explicit device_buffer(std::size_t n) : size_(n) {
    void* p = nullptr;
    check(device_malloc(&p, n * sizeof(T)), "device_buffer");
    data_ = static_cast<T*>(p);
  }
  /// Allocates and uploads `host`.
  explicit device_buffer(const std::vector<T>& host) : device_buffer(host.size()) { upload(host); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  device_buffer& operator=(device_buffer&& o) noexcept {
    if (this != &o) {
      device_free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~device_buffer() { device_free(data_); }

  /// Device pointer.
  T* data() const { return data_; }
  /// Number of elements.
  std::size_t size() const { return size_; }

  /// Copies `host` (size() elements) to the device.
  void upload(const std::vector<T>& host) {
    if (host.size() != size_) throw device_error("device_buffer::upload: size mismatch");
    check(copy_to_device(data_, host.data(), size_ * sizeof(T)), "device_buffer::upload");
  }
  /// Copies the device contents back to a new host vector.
  std::vector<T> download() const {
    std::vector<T> host(size_);
    check(copy_to_host(host.data(), data_, size_ * sizeof(T)), "device_buffer::download");
    return host;
  }
  /// Sets all elements to zero (default stream).
  void zero() { check(device_zero(data_, size_ * sizeof(T), nullptr), "device_buffer::zero"); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace nat::ops::cuda
