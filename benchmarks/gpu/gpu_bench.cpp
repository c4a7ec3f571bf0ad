// Timing of the nat::cuda kernels on MobileNetV3-sized layers. Not a Google Benchmark program on
// purpose: it must build on a bare GPU machine with only the CUDA toolkit, so it times with
// std::chrono around synchronize() (each sample = `reps` launches) and writes plain JSON.
// Usage: nat_gpu_bench [out.json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nat/ops/cuda/batch_norm.hpp>
#include <nat/ops/cuda/cudnn.hpp>
#include <nat/ops/cuda/depthwise_conv.hpp>
#include <nat/ops/cuda/kernel_transform.hpp>
#include <nat/ops/cuda/memory.hpp>
#include <nat/ops/cuda/pointwise_conv.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace nat::ops::cuda;

namespace {

struct result {
  std::string name;
  double ms;     // median per launch
  double bytes;  // minimum global traffic per launch, for an effective bandwidth
};

// Median of 7 samples of `reps` launches each, after one warm-up sample.
double time_ms(const std::function<void()>& launch, int reps = 20) {
  std::vector<double> samples;
  for (int s = 0; s < 8; ++s) {
    check(synchronize(), "bench");
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) launch();
    check(synchronize(), "bench");
    const auto t1 = std::chrono::steady_clock::now();
    if (s > 0) samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / reps);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::vector<float> filled(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919) % 1000) / 1000.f - 0.5f;
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::cout << "nat_gpu_bench: compiler " << __VERSION__ << ", cuDNN runtime "
            << cudnn_runtime_version() << "\n";
  if (device_count() == 0) {
    std::cout << "no CUDA device: nothing to benchmark\n";
    return 0;
  }
  std::cout << "device 0: " << device_name(0) << "\n";
  std::vector<result> results;

  // Depthwise layers of OFA-MBv3 w1.2 at r=224, batch 64 (mid channels at the largest expand
  // ratio).
  const std::vector<depthwise_shape> dw_shapes = {
      {64, 144, 112, 112, 3, 2, 1}, {64, 144, 56, 56, 7, 1, 3}, {64, 240, 56, 56, 5, 2, 2},
      {64, 480, 28, 28, 7, 1, 3},   {64, 672, 14, 14, 5, 1, 2}, {64, 1152, 7, 7, 7, 1, 3},
      {64, 1152, 7, 7, 3, 1, 1}};
  for (const auto& s : dw_shapes) {
    const std::size_t nx = std::size_t(s.n) * s.c * s.h * s.w;
    const std::size_t ny = std::size_t(s.n) * s.c * s.out_h() * s.out_w();
    const std::size_t nw = std::size_t(s.c) * s.kernel * s.kernel;
    device_buffer<float> x(filled(nx)), w(filled(nw)), y(ny), gx(nx), gw(nw);
    device_buffer<float> ws(depthwise_conv2d_backward_weight_workspace(s) / sizeof(float) + 1);
    char tag[128];
    std::snprintf(tag, sizeof tag, "n%d_c%d_%dx%d_k%d_s%d", s.n, s.c, s.h, s.w, s.kernel, s.stride);
    const double io = 4.0 * (nx + ny + nw);
    results.push_back({std::string("dw_forward/") + tag, time_ms([&] {
                         check(depthwise_conv2d_forward(s, x.data(), w.data(), y.data(), nullptr),
                               "dw fwd");
                       }),
                       io});
    results.push_back(
        {std::string("dw_backward_input/") + tag, time_ms([&] {
           check(depthwise_conv2d_backward_input(s, y.data(), w.data(), gx.data(), nullptr),
                 "dw bwd in");
         }),
         io});
    results.push_back({std::string("dw_backward_weight/") + tag, time_ms([&] {
                         check(depthwise_conv2d_backward_weight(s, x.data(), y.data(), gw.data(),
                                                                ws.data(), nullptr),
                               "dw bwd w");
                       }),
                       io});
  }

  // Pointwise expand/project layers (I -> O at H*W), batch 64.
  const std::vector<pointwise_shape> pw_shapes = {
      {64, 24, 144, 56 * 56}, {64, 144, 32, 28 * 28}, {64, 672, 112, 14 * 14}, {64, 192, 1152, 49}};
  for (const auto& s : pw_shapes) {
    const std::size_t nx = std::size_t(s.n) * s.in_c * s.hw;
    const std::size_t ny = std::size_t(s.n) * s.out_c * s.hw;
    const std::size_t nw = std::size_t(s.out_c) * s.in_c;
    device_buffer<float> x(filled(nx)), w(filled(nw)), y(ny), gx(nx), gw(nw);
    char tag[128];
    std::snprintf(tag, sizeof tag, "n%d_i%d_o%d_hw%d", s.n, s.in_c, s.out_c, s.hw);
    const double io = 4.0 * (nx + ny + nw);
    results.push_back({std::string("pw_forward/") + tag, time_ms([&] {
                         check(pointwise_conv2d_forward(s, x.data(), w.data(), y.data(), nullptr),
                               "pw fwd");
                       }),
                       io});
    results.push_back(
        {std::string("pw_backward_input/") + tag, time_ms([&] {
           check(pointwise_conv2d_backward_input(s, y.data(), w.data(), gx.data(), nullptr),
                 "pw bwd in");
         }),
         io});
    results.push_back(
        {std::string("pw_backward_weight/") + tag, time_ms([&] {
           check(pointwise_conv2d_backward_weight(s, x.data(), y.data(), gw.data(), nullptr),
                 "pw bwd w");
         }),
         io});
  }

  // Batch norm over a prefix of 144 of 240 channels at 56x56, batch 64.
  {
    const batch_norm_shape s{64, 144, 56 * 56};
    const std::size_t nx = std::size_t(s.n) * s.c * s.hw;
    device_buffer<float> x(filled(nx)), y(nx), gx(nx), g(filled(240)), b(filled(240)),
        rm(filled(240)), rv(std::vector<float>(240, 1.f)), mean(s.c), invstd(s.c), dg(240), db(240);
    const double io = 4.0 * 2 * nx;
    results.push_back({"bn_forward_train/n64_c144_56x56", time_ms([&] {
                         check(batch_norm_forward_train(s, x.data(), g.data(), b.data(), rm.data(),
                                                        rv.data(), 0.1f, 1e-5f, y.data(),
                                                        mean.data(), invstd.data(), nullptr),
                               "bn fwd");
                       }),
                       io});
    results.push_back({"bn_backward/n64_c144_56x56", time_ms([&] {
                         check(batch_norm_backward(s, x.data(), y.data(), g.data(), mean.data(),
                                                   invstd.data(), gx.data(), dg.data(), db.data(),
                                                   nullptr),
                               "bn bwd");
                       }),
                       io});
  }

  // Kernel transform chain 7->5->3 on 1152 channels (tiny; measures launch overhead).
  {
    device_buffer<float> w(filled(1152 * 49)), m75(filled(625)), m53(filled(81)), k5(1152 * 25),
        k3(1152 * 9);
    results.push_back(
        {"kernel_transform/7to5to3_c1152", time_ms([&] {
           check(kernel_transform_forward(1152, 7, 5, w.data(), m75.data(), k5.data(), nullptr),
                 "kt 75");
           check(kernel_transform_forward(1152, 5, 3, k5.data(), m53.data(), k3.data(), nullptr),
                 "kt 53");
         }),
         4.0 * 1152 * (49 + 25 + 25 + 9)});
  }

  std::ostringstream json;
  json << "{\n  \"device\": \"" << device_name(0) << "\",\n  \"cudnn\": " << cudnn_runtime_version()
       << ",\n  \"results\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const double gbps = r.bytes / (r.ms * 1e-3) / 1e9;
    std::printf("%-48s %10.4f ms %9.1f GB/s\n", r.name.c_str(), r.ms, gbps);
    json << "    {\"name\": \"" << r.name << "\", \"ms\": " << r.ms << ", \"gbps\": " << gbps << "}"
         << (i + 1 < results.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
  if (argc > 1) {
    std::ofstream(argv[1]) << json.str();
    std::cout << "wrote " << argv[1] << "\n";
  }
  return 0;
}
