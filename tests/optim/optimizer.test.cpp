#include <doctest/doctest.h>

#include <nat/autograd/backward.hpp>
#include <nat/nn/optim/optimizer.hpp>

namespace {
using nat::tensord;
using nat::nn::optim::named_parameter;

// Gradient of f(p) = p0² + 2 p1² + 3 p2² + p0 p1, injected by backpropagating it into the leaf.
void set_grad(const tensord& p) {
  const double* x = p.data();
  p.zero_grad();
  nat::autograd::backward(p,
                          tensord::from_vector({3}, {2 * x[0] + x[1], 4 * x[1] + x[0], 6 * x[2]}));
}

template <class Opt>
std::vector<double> run(Opt& opt, const tensord& p) {
  for (int s = 0; s < 3; ++s) {
    set_grad(p);
    opt.step();
  }
  return p.to_vector();
}

tensord start() { return tensord::from_vector({3}, {1.0, -2.0, 0.5}).set_requires_grad(true); }

void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
}
}  // namespace

// Expected values: torch 1.13 torch.optim.{SGD,Adam,AdamW} on the same function, 3 steps.
TEST_CASE("sgd matches PyTorch (plain momentum and Nesterov with weight decay)") {
  auto p = start();
  nat::nn::optim::sgd<double> plain({{"w", p}}, {0.1, 0.9, 0.0, false});
  check_close(run(plain, p), {0.706, 0.7020000000000002, -0.42700000000000005});
  auto q = start();
  nat::nn::optim::sgd<double> nest({{"w", q}}, {0.1, 0.9, 0.01, true});
  check_close(run(nest, q), {0.30792329114100003, 0.5586559616180001, -0.1514147825295});
}

TEST_CASE("adam and adamw match PyTorch") {
  auto p = start();
  nat::nn::optim::adam<double> a({{"w", p}}, {0.01, 0.9, 0.999, 1e-8, 0.01, false});
  check_close(run(a, p), {0.9805967526598766, -1.9700043734045782, 0.4700213292037731});
  auto q = start();
  nat::nn::optim::adam<double> aw({{"w", q}}, {0.01, 0.9, 0.999, 1e-8, 0.01, true});
  check_close(run(aw, q), {0.9842286590379873, -1.9694083981333592, 0.4698744608564684});
}

TEST_CASE("no decay for BN and bias; parameters without gradient are untouched") {
  auto bn = tensord::from_vector({1}, {1.0}).set_requires_grad(true);
  auto w = tensord::from_vector({1}, {1.0}).set_requires_grad(true);
  auto idle = tensord::from_vector({1}, {1.0}).set_requires_grad(true);
  nat::nn::optim::sgd<double> opt({{"blocks.1.bn.weight", bn}, {"conv.weight", w}, {"x", idle}},
                                  {0.5, 0.0, 0.1, false});
  nat::autograd::backward(bn, tensord::zeros({1}));
  nat::autograd::backward(w, tensord::zeros({1}));
  opt.step();
  CHECK(bn.data()[0] == 1.0);
  CHECK(w.data()[0] == doctest::Approx(1.0 - 0.5 * 0.1));
  CHECK(idle.data()[0] == 1.0);
  CHECK(nat::nn::optim::default_no_decay("classifier.linear.bias"));
  CHECK_FALSE(nat::nn::optim::default_no_decay("blocks.3.conv.depth_conv.conv.7to5_matrix"));
}

TEST_CASE("clip_grad_norm scales to the bound and reports the old norm; state round-trips") {
  auto a = tensord::from_vector({2}, {0, 0}).set_requires_grad(true);
  auto b = tensord::from_vector({1}, {0}).set_requires_grad(true);
  nat::autograd::backward(a, tensord::from_vector({2}, {3, 4}));
  nat::autograd::backward(b, tensord::from_vector({1}, {12}));
  std::vector<named_parameter<double>> ps = {{"a", a}, {"b", b}};
  CHECK(nat::nn::optim::clip_grad_norm(ps, 6.5) == doctest::Approx(13.0));
  CHECK(nat::nn::optim::grad_norm(ps) == doctest::Approx(6.5).epsilon(1e-6));
  CHECK(a.grad().to_vector()[0] == doctest::Approx(1.5).epsilon(1e-6));
  CHECK(nat::nn::optim::clip_grad_norm(ps, 100.0) == doctest::Approx(6.5).epsilon(1e-6));
  CHECK_THROWS_AS(nat::nn::optim::clip_grad_norm(ps, 0.0), nat::config_error);

  auto p = start(), q = start();
  nat::nn::optim::sgd<double> o1({{"w", p}}, {0.1, 0.9, 0.0, true}),
      o2({{"w", q}}, {0.1, 0.9, 0.0, true});
  set_grad(p);
  o1.step();
  set_grad(q);
  o2.step();
  nat::nn::optim::sgd<double> o3({{"w", q}}, {0.1, 0.9, 0.0, true});
  o3.load_state(o2.state());
  set_grad(p);
  o1.step();
  set_grad(q);
  o3.step();
  CHECK(p.to_vector() == q.to_vector());
  CHECK_THROWS_AS(o3.load_state({{"momentum.zzz", p}}), nat::config_error);
}
