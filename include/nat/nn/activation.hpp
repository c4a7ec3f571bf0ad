#pragma once
/// \file The activation functions a MobileNetV3 layer can carry, as a run-time tag.
///
/// Kept free of tensors so that architecture descriptions (presets, MAC counts, configs) can name
/// activations without pulling in the tensor layer.
#include <string>

#include "nat/core/error.hpp"

namespace nat::nn {

/// Activation after a conv/BN pair; `none` for the linear projection of an MBConv.
enum class activation { none, relu, hswish };

/// OFA's name for the activation (`act_func` in net.config): "relu", "h_swish" or "none".
inline const char* to_string(activation a) {
  switch (a) {
    case activation::relu:
      return "relu";
    case activation::hswish:
      return "h_swish";
    default:
      return "none";
  }
}

/// Parses OFA's `act_func` names (and "hswish"); config_error for anything else.
inline activation activation_from_string(const std::string& s) {
  if (s == "relu") return activation::relu;
  if (s == "h_swish" || s == "hswish") return activation::hswish;
  if (s == "none" || s.empty()) return activation::none;
  throw config_error("activation_from_string: expected relu, h_swish or none, got \"" + s + "\"");
}

}  // namespace nat::nn
