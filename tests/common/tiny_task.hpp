#pragma once
// A supernet and a dataset small enough for unit tests of training, export and the NAT loop.
#include <nat/core/rng.hpp>
#include <nat/data/image_dataset.hpp>
#include <nat/elastic/supernet_config.hpp>

namespace nat_test {

/// Two stages of 8/12 channels on 12 or 16 px images, 3 classes, no dropout.
inline nat::elastic::supernet_config tiny_layout() {
  nat::elastic::supernet_config p = nat::elastic::mbv3_small(1, 3);
  p.name = "tiny";
  p.first_conv_channels = 8;
  p.first_block_channels = 8;
  p.stages = {{8, 2, false, nat::nn::activation::relu}, {12, 2, true, nat::nn::activation::hswish}};
  p.final_expand_channels = 24;
  p.feature_mix_channels = 32;
  p.resolutions = {12, 16};
  p.dropout = 0.0;
  p.validate();
  return p;
}

/// n 12x12 grey images of three classes told apart by where a bright square is (left, centre,
/// right).
inline nat::data::image_dataset tiny_data(std::size_t n, std::uint64_t seed) {
  nat::rng g(seed);
  std::vector<std::uint8_t> px(n * 144);
  std::vector<int> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(g.index(3));
    labels[i] = c;
    for (std::size_t p = 0; p < 144; ++p) px[i * 144 + p] = static_cast<std::uint8_t>(g.index(60));
    for (int y = 4; y < 8; ++y)
      for (int x = 0; x < 4; ++x) px[i * 144 + y * 12 + c * 4 + x] = 230;
  }
  return nat::data::image_dataset("tiny", 1, 12, 12, std::move(px), std::move(labels), 3);
}

}  // namespace nat_test
