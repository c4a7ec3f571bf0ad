// Batch norm over a channel prefix (include/nat/ops/cuda/batch_norm.hpp, ofa_spec §2.3).
// One block per channel: two passes (mean, then Σ(x-mean)²) for accuracy, each reduced with the
// fixed block_sum tree, so statistics are bitwise reproducible.
#include <nat/ops/cuda/batch_norm.hpp>

#include "batch_norm.cuh"
#include "common.cuh"

namespace nat::ops::cuda {
namespace {

status validate(const batch_norm_shape& s) {
  if (s.n < 0 || s.c < 0 || s.hw < 0) return detail::invalid("negative size");
  return status::ok;
}

}  // namespace

status batch_norm_forward_train(const batch_norm_shape& s, const float* x, const float* gamma,
                                const float* beta, float* running_mean, float* running_var,
                                float momentum, float eps, float* y, float* save_mean,
                                float* save_invstd, void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  if (s.c == 0) return status::ok;
  if (static_cast<long long>(s.n) * s.hw == 0)
    return detail::invalid("training batch norm needs at least one value per channel");
  if (x == nullptr || gamma == nullptr || beta == nullptr || y == nullptr)
    return detail::invalid("null pointer");
  bn_forward_train<<<s.c, bn_block_threads, 0, detail::to_stream(stream)>>>(
      x, gamma, beta, running_mean, running_var, momentum, eps, y, save_mean, save_invstd, s.c,
      s.hw, static_cast<long long>(s.n) * s.hw);
  return detail::launch_status();
}

status batch_norm_forward_eval(const batch_norm_shape& s, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_var, float eps, float* y, void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  const long long total = static_cast<long long>(s.n) * s.c * s.hw;
  if (total == 0) return status::ok;
  if (x == nullptr || gamma == nullptr || beta == nullptr || running_mean == nullptr ||
      running_var == nullptr || y == nullptr)
    return detail::invalid("null pointer");
  bn_forward_eval<<<detail::grid_for(total, bn_block_threads), bn_block_threads, 0,
                    detail::to_stream(stream)>>>(x, gamma, beta, running_mean, running_var, eps, y,
                                                 s.c, s.hw, total);
  return detail::launch_status();
}

status batch_norm_backward(const batch_norm_shape& s, const float* x, const float* dy,
                           const float* gamma, const float* save_mean, const float* save_invstd,
                           float* dx, float* dgamma, float* dbeta, void* stream) {
  if (status st = validate(s); st != status::ok) return st;
  if (s.c == 0) return status::ok;
  if (static_cast<long long>(s.n) * s.hw == 0)
    return detail::invalid("training batch norm needs at least one value per channel");
  if (x == nullptr || dy == nullptr || gamma == nullptr || save_mean == nullptr ||
      save_invstd == nullptr || dx == nullptr)
    return detail::invalid("null pointer");
  bn_backward<<<s.c, bn_block_threads, 0, detail::to_stream(stream)>>>(
      x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, s.c, s.hw,
      static_cast<long long>(s.n) * s.hw);
  return detail::launch_status();
}

}  // namespace nat::ops::cuda
