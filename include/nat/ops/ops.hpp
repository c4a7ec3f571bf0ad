#pragma once
/// \file All differentiable operators of nat::ops (NCHW, CPU).
#include "nat/ops/activation.hpp"
#include "nat/ops/arith.hpp"
#include "nat/ops/batch_norm.hpp"
#include "nat/ops/conv2d.hpp"
#include "nat/ops/depthwise_conv2d.hpp"
#include "nat/ops/dropout.hpp"
#include "nat/ops/linear.hpp"
#include "nat/ops/loss.hpp"
#include "nat/ops/pool.hpp"
#include "nat/ops/view.hpp"
