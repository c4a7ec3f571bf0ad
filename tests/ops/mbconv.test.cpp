#include <doctest/doctest.h>

#include <nat/ops/ops.hpp>
#include <vector>

// A toy network of three MobileNetV3 blocks (OFA's MBConv with SE and residual), trained with a
// hand-written SGD step: the ops compose and their gradients point downhill together.
namespace {
using T = float;
using tensor = nat::tensorf;

struct bn_params {
  tensor w, b, rm, rv;
  explicit bn_params(std::size_t c)
      : w(tensor::ones({c})), b(tensor::zeros({c})), rm(tensor::zeros({c})), rv(tensor::ones({c})) {
    w.set_requires_grad(true);
    b.set_requires_grad(true);
  }
  tensor operator()(const tensor& x) const { return nat::ops::batch_norm(x, w, b, rm, rv, true); }
};

tensor kaiming(const nat::shape& s, std::size_t fan_in, std::uint64_t seed) {
  return tensor::randn(s, seed, 0.0f, std::sqrt(2.0f / float(fan_in))).set_requires_grad(true);
}

struct mbconv {
  tensor expand, dw, se_reduce, se_reduce_b, se_expand, se_expand_b, project;
  bn_params bn1, bn2, bn3;
  std::size_t k;
  mbconv(std::size_t c, std::size_t e, std::size_t k, std::uint64_t seed)
      : expand(kaiming({c * e, c, 1, 1}, c, seed)),
        dw(kaiming({c * e, 1, k, k}, k * k, seed + 1)),
        se_reduce(kaiming({c * e / 4, c * e, 1, 1}, c * e, seed + 2)),
        se_reduce_b(tensor::zeros({c * e / 4}).set_requires_grad(true)),
        se_expand(kaiming({c * e, c * e / 4, 1, 1}, c * e / 4, seed + 3)),
        se_expand_b(tensor::zeros({c * e}).set_requires_grad(true)),
        project(kaiming({c, c * e, 1, 1}, c * e, seed + 4)),
        bn1(c * e),
        bn2(c * e),
        bn3(c),
        k(k) {}
  tensor operator()(const tensor& x) const {
    using namespace nat::ops;
    tensor h = hswish(bn1(conv2d(x, expand)));
    h = relu(bn2(depthwise_conv2d(h, dw, 1, k / 2)));
    tensor s = relu(conv2d(global_avg_pool(h), se_reduce, se_reduce_b, 1, 0, 1));
    s = hsigmoid(conv2d(s, se_expand, se_expand_b, 1, 0, 1));
    h = bn3(conv2d(mul(h, s), project));
    return add(h, x);
  }
  std::vector<tensor> params() const {
    return {expand, dw,    se_reduce, se_reduce_b, se_expand, se_expand_b, project,
            bn1.w,  bn1.b, bn2.w,     bn2.b,       bn3.w,     bn3.b};
  }
};
}  // namespace

TEST_CASE("three MBConv blocks train: loss decreases monotonically over 20 SGD steps") {
  const std::size_t n = 8, c = 8, hw = 8, classes = 4;
  const tensor x = tensor::randn({n, c, hw, hw}, 100);
  std::vector<int> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = int(i % classes);
  std::vector<mbconv> blocks{mbconv(c, 3, 3, 1), mbconv(c, 4, 5, 11), mbconv(c, 6, 7, 21)};
  tensor fc = kaiming({classes, c}, c, 31), fc_b = tensor::zeros({classes}).set_requires_grad(true);

  std::vector<tensor> params{fc, fc_b};
  for (const auto& b : blocks)
    for (const auto& p : b.params()) params.push_back(p);

  std::vector<float> losses;
  const float lr = 0.05f;
  for (int step = 0; step < 20; ++step) {
    tensor h = x;
    for (const auto& b : blocks) h = b(h);
    tensor logits = nat::ops::linear(nat::ops::flatten(nat::ops::global_avg_pool(h)), fc, fc_b);
    tensor loss = nat::ops::cross_entropy(logits, labels, 0.1);
    losses.push_back(loss.item());
    nat::autograd::backward(loss);
    for (auto& p : params) {  // plain SGD
      REQUIRE(p.grad().defined());
      const tensor g = p.grad();
      for (std::size_t i = 0; i < p.numel(); ++i) p.data()[i] -= lr * g.data()[i];
      p.zero_grad();
    }
  }
  for (std::size_t i = 1; i < losses.size(); ++i) {
    CAPTURE(i);
    CHECK(losses[i] < losses[i - 1]);
  }
  CHECK(losses.back() < 0.8f * losses.front());
  // The running statistics of the training-mode BNs were updated in place.
  CHECK(blocks[0].bn1.rm.to_vector() != std::vector<float>(c * 3, 0.0f));
}
