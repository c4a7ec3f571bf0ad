#pragma once
/// \file Umbrella header of nat::surrogate: every accuracy predictor, adaptive switching and the
/// factory by name, plus the rank metrics they are judged by.
#include "nat/metrics/correlation.hpp"
#include "nat/surrogate/adaptive_switching.hpp"
#include "nat/surrogate/cart.hpp"
#include "nat/surrogate/cart_ensemble.hpp"
#include "nat/surrogate/factory.hpp"
#include "nat/surrogate/gaussian_process.hpp"
#include "nat/surrogate/mlp.hpp"
#include "nat/surrogate/rbf.hpp"
#include "nat/surrogate/rbf_ensemble.hpp"
#include "nat/surrogate/regressor.hpp"
