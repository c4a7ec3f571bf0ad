// Pointwise (1x1) convolution through cuBLAS SGEMM (include/nat/ops/cuda/pointwise_conv.hpp).
// cuBLAS is column-major: a row-major [R, Cc] matrix is the column-major [Cc, R] one, so
// y[n] (row-major O x HW) = W (O x I) · x[n] (I x HW) is computed as the column-major
// y[n]ᵀ (HW x O) = x[n]ᵀ (HW x I) · Wᵀ (I x O) without copying anything.
#include <cublas_v2.h>

#include <nat/ops/cuda/pointwise_conv.hpp>

#include "common.cuh"
#include "pointwise_conv.cuh"

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

// Runs one argument set; A, B, C are the base pointers of the operands named in pointwise_conv.cuh.
status run_gemm(cublasHandle_t h, const detail::gemm_args& g, const float* a, const float* b,
                float* c) {
  const float one = 1.f;
  const float zero = 0.f;
  const cublasOperation_t ta = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (g.stride_c != 0) {
    return from_cublas(cublasSgemmStridedBatched(h, ta, tb, g.m, g.n, g.k, &one, a, g.lda,
                                                 g.stride_a, b, g.ldb, g.stride_b, &zero, c, g.ldc,
                                                 g.stride_c, g.batch));
  }
  // Accumulating into one C: one GEMM per batch entry, in order, so the sum is deterministic.
  for (int i = 0; i < g.batch; ++i) {
    const float beta = i == 0 ? 0.f : 1.f;
    if (status st = from_cublas(cublasSgemm(h, ta, tb, g.m, g.n, g.k, &one, a + i * g.stride_a,
                                            g.lda, b + i * g.stride_b, g.ldb, &beta, c, g.ldc));
        st != status::ok)
      return st;
  }
  return status::ok;
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
  if (x == nullptr || w == nullptr || y == nullptr) return detail::invalid("null pointer");
  cublasHandle_t h = nullptr;
  if (status st = get_handle(stream, &h); st != status::ok) return st;
  return run_gemm(h, detail::pointwise_forward_gemm(s), x, w, y);
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
  if (dy == nullptr || w == nullptr || dx == nullptr) return detail::invalid("null pointer");
  cublasHandle_t h = nullptr;
  if (status st = get_handle(stream, &h); st != status::ok) return st;
  return run_gemm(h, detail::pointwise_backward_input_gemm(s), dy, w, dx);
}

status pointwise_conv2d_backward_weight(const pointwise_shape& s, const float* x, const float* dy,
                                        float* dw, void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  if (s.in_c == 0 || s.out_c == 0) return status::ok;
  if (dw == nullptr) return detail::invalid("null pointer");
  if (s.n == 0 || s.hw == 0)
    return detail::from_cuda(
        cudaMemsetAsync(dw, 0, sizeof(float) * s.out_c * s.in_c, detail::to_stream(stream)));
  if (x == nullptr || dy == nullptr) return detail::invalid("null pointer");
  cublasHandle_t h = nullptr;
  if (status st = get_handle(stream, &h); st != status::ok) return st;
  return run_gemm(h, detail::pointwise_backward_weight_gemm(s), x, dy, dw);
}

}  // namespace nat::ops::cuda
