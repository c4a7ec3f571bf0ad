// Prefix batch norm (ofa_spec §2.3) on the GPU against a double CPU reference.
#include <doctest/doctest.h>

#include <cmath>
#include <nat/ops/cuda/batch_norm.hpp>
#include <nat/ops/cuda/cudnn.hpp>
#include <vector>

#include "gpu_test_util.hpp"

using namespace nat::ops::cuda;
using namespace nat_gpu_test;

namespace {

struct channel_stats {
  std::vector<double> mean, var;  // biased
};

channel_stats stats(const batch_norm_shape& s, const std::vector<float>& x) {
  channel_stats st{std::vector<double>(s.c, 0.0), std::vector<double>(s.c, 0.0)};
  const double m = static_cast<double>(s.n) * s.hw;
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int p = 0; p < s.hw; ++p) st.mean[c] += x[(n * s.c + c) * s.hw + p] / m;
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int p = 0; p < s.hw; ++p) {
        const double d = x[(n * s.c + c) * s.hw + p] - st.mean[c];
        st.var[c] += d * d / m;
      }
  return st;
}

}  // namespace

TEST_CASE("gpu batch_norm train forward, prefix EMA, eval forward and backward") {
  NAT_REQUIRE_GPU();
  const int cmax = 24;
  const std::vector<batch_norm_shape> shapes = {{3, 13, 49}, {2, 24, 196}, {1, 5, 1}, {7, 1, 300}};
  for (const auto& s : shapes) {
    CAPTURE(s.n);
    CAPTURE(s.c);
    CAPTURE(s.hw);
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.c * s.hw;
    auto x = random_vector(nx, 40);
    for (auto& v : x) v = 3.f * v + 0.5f;  // non-trivial mean and variance
    const auto gamma = random_vector(cmax, 41);
    const auto beta = random_vector(cmax, 42);
    auto rmean = random_vector(cmax, 43);
    auto rvar = random_vector(cmax, 44);
    for (auto& v : rvar) v = v * v + 0.5f;
    const auto g = random_vector(nx, 45);
    const float momentum = 0.1f;
    const float eps = 1e-5f;
    const double m = static_cast<double>(s.n) * s.hw;
    const auto st = stats(s, x);

    std::vector<double> y(nx), want_rm(rmean.begin(), rmean.end()),
        want_rv(rvar.begin(), rvar.end());
    for (int c = 0; c < s.c; ++c) {
      const double unbiased = m > 1 ? st.var[c] * m / (m - 1) : st.var[c];
      want_rm[c] = (1 - momentum) * rmean[c] + momentum * st.mean[c];
      want_rv[c] = (1 - momentum) * rvar[c] + momentum * unbiased;
    }
    // Backward reference: dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/σ · (dy − dβ/M − x̂·dγ/M).
    std::vector<double> dgamma(s.c, 0.0), dbeta(s.c, 0.0), dx(nx);
    for (int n = 0; n < s.n; ++n)
      for (int c = 0; c < s.c; ++c)
        for (int p = 0; p < s.hw; ++p) {
          const std::size_t i = (static_cast<std::size_t>(n) * s.c + c) * s.hw + p;
          const double xhat = (x[i] - st.mean[c]) / std::sqrt(st.var[c] + eps);
          y[i] = xhat * gamma[c] + beta[c];
          dbeta[c] += g[i];
          dgamma[c] += g[i] * xhat;
        }
    for (int n = 0; n < s.n; ++n)
      for (int c = 0; c < s.c; ++c)
        for (int p = 0; p < s.hw; ++p) {
          const std::size_t i = (static_cast<std::size_t>(n) * s.c + c) * s.hw + p;
          const double inv = 1.0 / std::sqrt(st.var[c] + eps);
          const double xhat = (x[i] - st.mean[c]) * inv;
          dx[i] = gamma[c] * inv * (g[i] - dbeta[c] / m - xhat * dgamma[c] / m);
        }

    auto d_x = upload(x);
    auto d_gamma = upload(gamma);
    auto d_beta = upload(beta);
    auto d_rm = upload(rmean);
    auto d_rv = upload(rvar);
    auto d_g = upload(g);
    device_buffer<float> d_y(nx), d_mean(s.c), d_invstd(s.c), d_dx(nx), d_dgamma(cmax),
        d_dbeta(cmax);
    check(batch_norm_forward_train(s, d_x.data(), d_gamma.data(), d_beta.data(), d_rm.data(),
                                   d_rv.data(), momentum, eps, d_y.data(), d_mean.data(),
                                   d_invstd.data(), nullptr),
          "train");
    check(
        batch_norm_backward(s, d_x.data(), d_g.data(), d_gamma.data(), d_mean.data(),
                            d_invstd.data(), d_dx.data(), d_dgamma.data(), d_dbeta.data(), nullptr),
        "backward");
    sync();
    CHECK(rel_error(d_y.download(), y) < forward_tol);
    // Prefix updated in place, channels >= C untouched (bitwise).
    const auto rm_after = d_rm.download();
    const auto rv_after = d_rv.download();
    CHECK(rel_error(rm_after, want_rm) < forward_tol);
    CHECK(rel_error(rv_after, want_rv) < forward_tol);
    for (int c = s.c; c < cmax; ++c) {
      CHECK(rm_after[c] == rmean[c]);
      CHECK(rv_after[c] == rvar[c]);
    }
    CHECK(rel_error(d_dx.download(), dx) < gradient_tol);
    auto dg_host = d_dgamma.download();
    auto db_host = d_dbeta.download();
    dg_host.resize(s.c);
    db_host.resize(s.c);
    CHECK(rel_error(dg_host, dgamma) < gradient_tol);
    CHECK(rel_error(db_host, dbeta) < gradient_tol);

    // Eval with the (updated) prefix running stats.
    std::vector<double> ye(nx);
    for (int n = 0; n < s.n; ++n)
      for (int c = 0; c < s.c; ++c)
        for (int p = 0; p < s.hw; ++p) {
          const std::size_t i = (static_cast<std::size_t>(n) * s.c + c) * s.hw + p;
          ye[i] = (x[i] - static_cast<double>(rm_after[c])) /
                      std::sqrt(static_cast<double>(rv_after[c]) + eps) * gamma[c] +
                  beta[c];
        }
    check(batch_norm_forward_eval(s, d_x.data(), d_gamma.data(), d_beta.data(), d_rm.data(),
                                  d_rv.data(), eps, d_y.data(), nullptr),
          "eval");
    sync();
    CHECK(rel_error(d_y.download(), ye) < forward_tol);
  }
}

TEST_CASE("gpu cuDNN handle can be created") {
  NAT_REQUIRE_GPU();
  CHECK(cudnn_handle_check() == status::ok);
}
