// The 20-line example of README.md, built and run by the test suite so that it stays true.
#include <cstdio>
#include <nat/nat.hpp>

int main() {
  // A supernet for 28-64 px images, and one of its subnets from NAT's 23-digit encoding.
  nat::elastic::supernet net(nat::elastic::mbv3_small(/*in_channels=*/1, /*n_classes=*/10),
                             /*seed=*/0);
  const auto space = nat::search::make_space("small");
  const nat::subnet_config cfg = space.decode_encoding("01011203200562076009771");
  std::printf("%lld MACs, %lld params\n", (long long)nat::elastic::count_macs(net.config(), cfg),
              (long long)nat::elastic::count_params(net.config(), cfg));

  // Forward and backward through the active subnet with nat's own autograd.
  net.set_active(cfg);
  auto x = nat::tensorf::randn({8, 1, cfg.r, cfg.r}, /*seed=*/1);
  auto loss =
      nat::ops::cross_entropy(net.forward(x), std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}, 0.1f);
  nat::autograd::backward(loss);

  // The evolutionary half stands alone: NSGA-II on ZDT1.
  auto result =
      nat::evo::nsga2(nat::evo::nsga2_params{}).solve(nat::evo::zdt1(30), 250, /*seed=*/1);
  std::printf("front of %zu points, HV %.4f\n", result.F.size(),
              nat::metrics::hypervolume(result.F, {1.1, 1.1}));
}
