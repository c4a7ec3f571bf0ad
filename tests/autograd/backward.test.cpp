#include <doctest/doctest.h>

#include <nat/autograd/backward.hpp>
#include <nat/autograd/grad_check.hpp>
#include <vector>

namespace {
// Two tiny ops written against the recording API, so this module is tested without nat::ops.
template <class T>
nat::tensor<T> times(const nat::tensor<T>& a, const nat::tensor<T>& b) {
  auto y = nat::tensor<T>::empty(a.shape());
  for (std::size_t i = 0; i < a.numel(); ++i) y.data()[i] = a.data()[i] * b.data()[i];
  nat::autograd::record<T>("times", y, {a, b},
                           [a = a.detach(), b = b.detach()](const nat::tensor<T>& g, auto& gx) {
                             gx[0] = nat::tensor<T>::empty(a.shape());
                             gx[1] = nat::tensor<T>::empty(a.shape());
                             for (std::size_t i = 0; i < a.numel(); ++i) {
                               gx[0].data()[i] = g.data()[i] * b.data()[i];
                               gx[1].data()[i] = g.data()[i] * a.data()[i];
                             }
                           });
  return y;
}
template <class T>
nat::tensor<T> total(const nat::tensor<T>& a) {
  T s = 0;
  for (T v : a.to_vector()) s += v;
  auto y = nat::tensor<T>::full({1}, s);
  nat::autograd::record<T>("total", y, {a}, [shape = a.shape()](const nat::tensor<T>& g, auto& gx) {
    gx[0] = nat::tensor<T>::full(shape, g.item());
  });
  return y;
}
}  // namespace

TEST_CASE("backward: product rule, shared inputs, accumulation across passes") {
  auto x = nat::tensord::from_vector({3}, {1, 2, 3}).set_requires_grad(true);
  auto w = nat::tensord::from_vector({3}, {4, 5, 6});
  CHECK(x.requires_grad());
  CHECK(!w.requires_grad());
  auto loss = total(times(times(x, x), w));  // sum w x^2 -> grad 2 w x
  CHECK(!loss.is_leaf());
  nat::autograd::backward(loss);
  CHECK(x.grad().to_vector() == std::vector<double>{8, 20, 36});
  CHECK(!w.grad().defined());
  // A second forward + backward adds (NAT sums the gradients of several subnets).
  nat::autograd::backward(total(times(x, w)));
  CHECK(x.grad().to_vector() == std::vector<double>{12, 25, 42});
  // Backward twice through a freed graph is an error, not silent garbage.
  CHECK_THROWS_AS(nat::autograd::backward(loss), nat::error);
  x.zero_grad();
  CHECK(!x.grad().defined());
}

TEST_CASE("backward: errors for tensors without grad and bad grad_output") {
  auto w = nat::tensord::ones({2});
  CHECK_THROWS_AS(nat::autograd::backward(total(w)), nat::error);
  auto x = nat::tensord::ones({2}).set_requires_grad(true);
  auto y = times(x, x);
  CHECK_THROWS_AS(nat::autograd::backward(y), nat::shape_error);  // not a scalar
  CHECK_THROWS_AS(nat::autograd::backward(y, nat::tensord::ones({3})), nat::shape_error);
  nat::autograd::backward(y, nat::tensord::ones({2}));
  CHECK(x.grad().to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("no_grad records nothing and nests") {
  auto x = nat::tensord::ones({2}).set_requires_grad(true);
  {
    nat::autograd::no_grad g1;
    {
      nat::autograd::no_grad g2;
      CHECK(!nat::autograd::grad_enabled());
    }
    CHECK(!nat::autograd::grad_enabled());
    CHECK(!times(x, x).requires_grad());
  }
  CHECK(nat::autograd::grad_enabled());
  CHECK(times(x, x).requires_grad());
}

TEST_CASE("deep chains are walked without recursion") {
  auto x = nat::tensord::full({1}, 1.0).set_requires_grad(true);
  auto one = nat::tensord::full({1}, 1.0);
  nat::tensord y = x;
  for (int i = 0; i < 200000; ++i) y = times(y, one);
  nat::autograd::backward(y);
  CHECK(x.grad().item() == 1.0);
  // ... and dropped without backward (grad mode on during evaluation) without recursion either.
  for (int i = 0; i < 200000; ++i) y = times(y, one);
  y = nat::tensord();
}

TEST_CASE("grad_check accepts a right gradient and rejects a wrong one") {
  auto a = nat::tensord::randn({5}, 1).set_requires_grad(true);
  auto b = nat::tensord::randn({5}, 2).set_requires_grad(true);
  auto good = nat::autograd::grad_check(
      [](const std::vector<nat::tensord>& in) { return times(in[0], in[1]); }, {a, b});
  CHECK_MESSAGE(good.ok, good.worst);
  auto wrong = [](const std::vector<nat::tensord>& in) {
    auto y = nat::tensord::empty(in[0].shape());
    for (std::size_t i = 0; i < y.numel(); ++i) y.data()[i] = in[0].data()[i] * in[0].data()[i];
    nat::autograd::record<double>("wrong", y, {in[0]}, [x = in[0].detach()](auto& g, auto& gx) {
      gx[0] = x.clone();  // should be 2 x g
    });
    return y;
  };
  CHECK(!nat::autograd::grad_check(wrong, {a}).ok);
}

namespace {
// y = a + b whose backward hands the same gradient tensor to both inputs (like ops::add).
template <class T>
nat::tensor<T> plus_shared(const nat::tensor<T>& a, const nat::tensor<T>& b) {
  auto y = nat::tensor<T>::empty(a.shape());
  for (std::size_t i = 0; i < a.numel(); ++i) y.data()[i] = a.data()[i] + b.data()[i];
  nat::autograd::record<T>("plus_shared", y, {a, b}, [](const nat::tensor<T>& g, auto& gx) {
    gx[0] = g;
    gx[1] = g;
  });
  return y;
}
}  // namespace

TEST_CASE("backward: gradients added in place only into buffers nobody else holds") {
  // a feeds three consumers; two of its incoming gradients are one shared tensor, so adding the
  // third into it in place would corrupt the other consumer's copy.
  auto x = nat::tensord::from_vector({2}, {1, 2}).set_requires_grad(true);
  auto two = nat::tensord::full({2}, 2.0);
  auto a = times(x, two);
  auto b = plus_shared(a, a);              // gradient to a: g, g (one tensor)
  auto c = plus_shared(b, times(a, two));  // and 2·g through a second path
  auto gy = nat::tensord::from_vector({2}, {1, 10});
  nat::autograd::backward(c, gy);
  // dc/da = 1 + 1 + 2 = 4, dc/dx = 8.
  CHECK(x.grad().at(0) == doctest::Approx(8.0));
  CHECK(x.grad().at(1) == doctest::Approx(80.0));
  // The caller's grad_output is never written.
  CHECK(gy.at(0) == 1.0);
  CHECK(gy.at(1) == 10.0);
  // A leaf reached twice by one shared tensor gets a private sum.
  auto z = nat::tensord::from_vector({2}, {3, 4}).set_requires_grad(true);
  auto g2 = nat::tensord::from_vector({2}, {1, 1});
  nat::autograd::backward(plus_shared(z, z), g2);
  CHECK(z.grad().at(0) == 2.0);
  CHECK(g2.at(0) == 1.0);
  CHECK(!z.grad().shares_storage_with(g2));
}
