#pragma once
/// \file Umbrella header: everything in nat except the opt-in io/ headers.
#include "nat/core/assert.hpp"
#include "nat/core/device.hpp"
#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/points.hpp"
#include "nat/core/progress.hpp"
#include "nat/core/rng.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/core/timer.hpp"
