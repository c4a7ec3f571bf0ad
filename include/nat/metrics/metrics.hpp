#pragma once
/// \file Umbrella header of nat::metrics: hypervolume, IGD/GD (and their + variants), high
/// trade-off points, and the surrogate-quality correlations (Kendall tau-b, Spearman, RMSE).
#include "nat/metrics/correlation.hpp"
#include "nat/metrics/high_tradeoff.hpp"
#include "nat/metrics/hypervolume.hpp"
#include "nat/metrics/igd.hpp"
