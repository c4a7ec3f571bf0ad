#include <doctest/doctest.h>

#include <cmath>
#include <nat/nn/optim/lr_schedule.hpp>

TEST_CASE("cosine schedule: warm-up is linear, decay follows the closed form") {
  const auto s = nat::nn::optim::cosine_schedule(0.1, 110, 10, 0.001);
  CHECK(s.at(0) == doctest::Approx(0.001));
  CHECK(s.at(5) == doctest::Approx(0.001 + 0.099 * 0.5));
  CHECK(s.at(10) == doctest::Approx(0.1));
  CHECK(s.at(60) == doctest::Approx(0.05));  // half-way through the cosine part
  CHECK(s.at(35) == doctest::Approx(0.05 * (1 + std::cos(M_PI * 0.25))));
  CHECK(s.at(110) == doctest::Approx(0.0));
  CHECK(s.at(500) == doctest::Approx(0.0));
  for (std::size_t t = 10; t < 110; ++t) CHECK(s.at(t + 1) <= s.at(t));
}

TEST_CASE("constant and step schedules; invalid settings throw") {
  CHECK(nat::nn::optim::constant_schedule(0.5).at(1000) == 0.5);
  const auto st = nat::nn::optim::step_schedule(1.0, 10, 0.5);
  CHECK(st.at(9) == 1.0);
  CHECK(st.at(10) == 0.5);
  CHECK(st.at(25) == 0.25);
  CHECK_THROWS_AS(nat::nn::optim::cosine_schedule(-1, 10), nat::config_error);
  CHECK_THROWS_AS(nat::nn::optim::cosine_schedule(0.1, 10, 20), nat::config_error);
  CHECK_THROWS_AS(nat::nn::optim::step_schedule(0.1, 0, 0.5), nat::config_error);
}
