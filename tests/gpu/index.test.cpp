// CPU-only checks of the host/device index arithmetic and of the host-side API contract; these run
// on every machine, GPU or not.
#include <doctest/doctest.h>

#include <nat/ops/cuda/batch_norm.hpp>
#include <nat/ops/cuda/cudnn.hpp>
#include <nat/ops/cuda/depthwise_conv.hpp>
#include <nat/ops/cuda/detail/index.hpp>
#include <nat/ops/cuda/kernel_transform.hpp>
#include <nat/ops/cuda/memory.hpp>
#include <string>

using namespace nat::ops::cuda;

TEST_CASE("cuda index: conv output size") {
  CHECK(detail::conv_out_size(7, 3, 1, 1) == 7);
  CHECK(detail::conv_out_size(7, 3, 2, 1) == 4);
  CHECK(detail::conv_out_size(224, 7, 2, 3) == 112);
  CHECK(detail::conv_out_size(7, 7, 1, 0) == 1);
  CHECK(detail::conv_out_size(5, 7, 1, 0) == 0);
  CHECK(detail::conv_out_size(5, 7, 1, 1) == 1);
  constexpr depthwise_shape s{3, 13, 7, 9, 5, 2, 2};
  static_assert(s.out_h() == 4 && s.out_w() == 5);
}

TEST_CASE("cuda index: centre crop is OFA's offset big//2 - small//2, row-major") {
  CHECK(detail::crop_offset(7, 5) == 1);
  CHECK(detail::crop_offset(5, 3) == 1);
  CHECK(detail::crop_offset(7, 3) == 2);
  CHECK(detail::crop_source_index(0, 7, 5) == 8);    // (1,1)
  CHECK(detail::crop_source_index(24, 7, 5) == 40);  // (5,5)
  CHECK(detail::crop_source_index(4, 5, 3) == 12);   // crop centre (1,1) -> (2,2)
  for (int big : {5, 7}) {
    for (int small = 1; small < big; small += 2) {
      int inside = 0;
      for (int t = 0; t < big * big; ++t) {
        const int i = detail::crop_dest_index(t, big, small);
        if (i >= 0) {
          ++inside;
          CHECK(detail::crop_source_index(i, big, small) == t);
        }
      }
      CHECK(inside == small * small);
    }
  }
}

TEST_CASE("cuda index: output_for_tap inverts o*stride - pad + tap") {
  for (int stride : {1, 2}) {
    for (int k : {3, 5, 7}) {
      for (int pad : {0, k / 2, k / 2 + 1}) {
        for (int in : {1, 6, 7}) {
          const int out = detail::conv_out_size(in, k, stride, pad);
          // Count (o, tap) pairs by brute force and by the inverse: they must agree exactly.
          for (int i = 0; i < in; ++i) {
            for (int tap = 0; tap < k; ++tap) {
              int brute = -1;
              for (int o = 0; o < out; ++o)
                if (o * stride - pad + tap == i) brute = o;
              CHECK(detail::output_for_tap(i, tap, stride, pad, out) == brute);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("cuda index: weight-gradient split depends on the size only and covers it") {
  CHECK(detail::dw_weight_grad_splits(1) == 1);
  CHECK(detail::dw_weight_grad_splits(detail::dw_weight_grad_chunk) == 1);
  CHECK(detail::dw_weight_grad_splits(detail::dw_weight_grad_chunk + 1) == 2);
  CHECK(detail::dw_weight_grad_splits(1LL << 40) == detail::dw_weight_grad_max_splits);
  for (long long total : {1LL, 100LL, 8193LL, 12544LL, 1000000LL, 123456789LL}) {
    const long long s = detail::dw_weight_grad_splits(total);
    const long long size = detail::dw_weight_grad_split_size(total, s);
    CHECK(size * s >= total);
    CHECK(size * (s - 1) < total);  // no empty trailing split
  }
}

TEST_CASE(
    "cuda api: device_count never throws; bad arguments are rejected before any device call") {
  int n = -1;
  CHECK_NOTHROW(n = device_count());
  CHECK(n >= 0);
  MESSAGE("CUDA devices: " << n);
  depthwise_shape bad{1, 1, 7, 7, 4, 1, 1};
  CHECK(depthwise_conv2d_forward(bad, nullptr, nullptr, nullptr, nullptr) ==
        status::invalid_argument);
  CHECK(std::string(last_error_message()).find("kernel must be 3, 5 or 7") != std::string::npos);
  bad.kernel = 3;
  bad.stride = 3;
  CHECK(depthwise_conv2d_backward_input(bad, nullptr, nullptr, nullptr, nullptr) ==
        status::invalid_argument);
  CHECK(kernel_transform_forward(4, 5, 5, nullptr, nullptr, nullptr, nullptr) ==
        status::invalid_argument);
  CHECK(batch_norm_forward_eval({1, -1, 1}, nullptr, nullptr, nullptr, nullptr, nullptr, 1e-5f,
                                nullptr, nullptr) == status::invalid_argument);
  try {
    check(depthwise_conv2d_backward_input(bad, nullptr, nullptr, nullptr, nullptr),
          "depthwise_conv2d_backward_input");
    FAIL("no throw");
  } catch (const nat::device_error& e) {
    CHECK(std::string(e.what()) ==
          "depthwise_conv2d_backward_input: invalid argument (stride must be 1 or 2)");
  }
  // Empty shapes are no-ops.
  CHECK(depthwise_conv2d_forward({0, 4, 7, 7, 3, 1, 1}, nullptr, nullptr, nullptr, nullptr) ==
        status::ok);
}

TEST_CASE("cuda api: check() maps a status to nat::device_error naming the caller") {
  CHECK_NOTHROW(check(status::ok, "f"));
  CHECK_THROWS_AS(check(status::cuda_error, "f"), nat::device_error);
  try {
    check(status::invalid_argument, "depthwise_conv2d_forward");
  } catch (const nat::device_error& e) {
    CHECK(std::string(e.what()).find("depthwise_conv2d_forward: invalid argument") == 0);
  }
}

TEST_CASE("cuda api: the linked cuDNN is major version 9") {
  // cudnnGetVersion needs no device, so this proves the link on CPU-only machines too.
  const std::size_t rt = cudnn_runtime_version();
  MESSAGE("cuDNN runtime " << rt << ", compiled " << cudnn_compiled_version());
  CHECK(rt / 10000 == 9);
  CHECK(cudnn_compiled_version() / 10000 == 9);
}
