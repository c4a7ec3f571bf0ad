#pragma once
/// \file Build a surrogate from its name, so the NAT loop can take the model from its config.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/surrogate/adaptive_switching.hpp"
#include "nat/surrogate/cart.hpp"
#include "nat/surrogate/cart_ensemble.hpp"
#include "nat/surrogate/gaussian_process.hpp"
#include "nat/surrogate/mlp.hpp"
#include "nat/surrogate/rbf.hpp"
#include "nat/surrogate/rbf_ensemble.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// The names make_regressor accepts (NSGANetV2's predictor names where they exist).
inline std::vector<std::string> regressor_names() {
  return {"rbf", "rbf_ensemble", "gp", "cart", "cart_ensemble", "mlp", "as"};
}

/// A default-configured, unfitted model by name: "rbf", "rbf_ensemble", "gp" (or
/// "gaussian_process"), "cart", "cart_ensemble" (or "carts"), "mlp", "as" (or
/// "adaptive_switching"); `seed` seeds the stochastic ones. Throws config_error for other names.
inline std::unique_ptr<regressor> make_regressor(const std::string& name, std::uint64_t seed = 0) {
  if (name == "rbf") return std::make_unique<rbf>();
  if (name == "rbf_ensemble") return std::make_unique<rbf_ensemble>(seed);
  if (name == "gp" || name == "gaussian_process") return std::make_unique<gaussian_process>(seed);
  if (name == "cart") return std::make_unique<cart>(seed);
  if (name == "cart_ensemble" || name == "carts") return std::make_unique<cart_ensemble>(seed);
  if (name == "mlp") return std::make_unique<mlp>(seed);
  if (name == "as" || name == "adaptive_switching")
    return std::make_unique<adaptive_switching>(seed);
  std::string known;
  for (const auto& n : regressor_names()) known += (known.empty() ? "" : ", ") + n;
  throw config_error("make_regressor: unknown model '" + name + "', expected one of " + known);
}

}  // namespace nat::surrogate
