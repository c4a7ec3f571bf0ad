// Pointwise (1x1) convolution through cuBLAS SGEMM (include/nat/ops/cuda/pointwise_conv.hpp).
// cuBLAS is column-major: a row-major [R, Cc] matrix is the column-major [Cc, R] one, so
// y[n] (row-major O x HW) = W (O x I) · x[n] (I x HW) is computed as the column-major
// y[n]ᵀ (HW x O) = x[n]ᵀ (HW x I) · Wᵀ (I x O) without copying anything.
#include <cublas_v2.h>

#include <nat/ops/cuda/pointwise_conv.hpp>

#include "common.cuh"

namespace nat::ops::cuda {
namespace {

// One cuBLAS handle per host thread and device: handles are not safe to share across threads, and
// creating one per call costs far more than a small GEMM.
struct blas_handle {
  cublasHandle_t handle = nullptr;
  int device = -1;
  ~blas_handle() {
    if (handle != nullptr) cublasDestroy(handle);
  }
};

status from_cublas(cublasStatus_t st) {
  if (st == CUBLAS_STATUS_SUCCESS) return status::ok;
  detail::set_last_error(cublasGetStatusString(st));
  return status::cublas_error;
}

status get_handle(void* stream, cublasHandle_t* out) {
  thread_local blas_handle tl;
  int device = 0;
  if (status st = detail::from_cuda(cudaGetDevice(&device)); st != status::ok) return st;
  if (tl.handle == nullptr || tl.device != device) {
    if (tl.handle != nullptr) cublasDestroy(tl.handle);
    tl.handle = nullptr;
    if (status st = from_cublas(cublasCreate(&tl.handle)); st != status::ok) return st;
    tl.device = device;
    // Plain FP32: TF32 would break the 1e-5 agreement with the CPU path.
    if (status st = from_cublas(cublasSetMathMode(tl.handle, CUBLAS_DEFAULT_MATH));
        st != status::ok)
      return st;
  }
  if (status st = from_cublas(cublasSetStream(tl.handle, detail::to_stream(stream)));
      st != status::ok)
    return st;
  *out = tl.handle;
  return status::ok;
}

status validate(const pointwise_shape& s) {
  if (s.n < 0 || s.in_c < 0 || s.out_c < 0 || s.hw < 0) return detail::invalid("negative size");
  return status::ok;
}

bool empty(const pointwise_shape& s) {
  return s.n == 0 || s.in_c == 0 || s.out_c == 0 || s.hw == 0;
}

}  // namespace

status pointwise_conv2d_forward(const pointwise_shape& s, const float* x, const float* w, float* y,
                                void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  if (empty(s)) {
    // I == 0 still defines y = 0.
    if (s.in_c == 0 && y != nullptr && s.n * s.out_c * s.hw > 0)
      return detail::from_cuda(
          cudaMemsetAsync(y, 0, sizeof(float) * s.n * s.out_c * s.hw, detail::to_stream(stream)));
    return status::ok;
  }
  cublasHandle_t h = nullptr;
  if (status st = get_handle(stream, &h); st != status::ok) return st;
  const float one = 1.f;
  const float zero = 0.f;
  return from_cublas(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, s.hw, s.out_c, s.in_c,
                                               &one, x, s.hw, static_cast<long long>(s.in_c) * s.hw,
                                               w, s.in_c, 0, &zero, y, s.hw,
                                               static_cast<long long>(s.out_c) * s.hw, s.n));
}

status pointwise_conv2d_backward_input(const pointwise_shape& s, const float* dy, const float* w,
                                       float* dx, void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  if (empty(s)) {
    if (s.out_c == 0 && dx != nullptr && s.n * s.in_c * s.hw > 0)
      return detail::from_cuda(
          cudaMemsetAsync(dx, 0, sizeof(float) * s.n * s.in_c * s.hw, detail::to_stream(stream)));
    return status::ok;
  }
  cublasHandle_t h = nullptr;
  if (status st = get_handle(stream, &h); st != status::ok) return st;
  const float one = 1.f;
  const float zero = 0.f;
  // Column-major dx[n]ᵀ (HW x I) = dy[n]ᵀ (HW x O) · W (O x I); W is stored as column-major I x O.
  return from_cublas(
      cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_T, s.hw, s.in_c, s.out_c, &one, dy, s.hw,
                                static_cast<long long>(s.out_c) * s.hw, w, s.in_c, 0, &zero, dx,
                                s.hw, static_cast<long long>(s.in_c) * s.hw, s.n));
}

status pointwise_conv2d_backward_weight(const pointwise_shape& s, const float* x, const float* dy,
                                        float* dw, void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  if (s.in_c == 0 || s.out_c == 0) return status::ok;
  if (s.n == 0 || s.hw == 0)
    return detail::from_cuda(
        cudaMemsetAsync(dw, 0, sizeof(float) * s.out_c * s.in_c, detail::to_stream(stream)));
  cublasHandle_t h = nullptr;
  if (status st = get_handle(stream, &h); st != status::ok) return st;
  const float one = 1.f;
  // Column-major dwᵀ (I x O) += x[n] (I x HW, stored as HW x I) · dy[n]ᵀ (HW x O), n in order.
  for (int n = 0; n < s.n; ++n) {
    const float beta = n == 0 ? 0.f : 1.f;
    const long long xoff = static_cast<long long>(n) * s.in_c * s.hw;
    const long long yoff = static_cast<long long>(n) * s.out_c * s.hw;
    if (status st =
            from_cublas(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, s.in_c, s.out_c, s.hw, &one,
                                    x + xoff, s.hw, dy + yoff, s.hw, &beta, dw, s.in_c));
        st != status::ok)
      return st;
  }
  return status::ok;
}

}  // namespace nat::ops::cuda
