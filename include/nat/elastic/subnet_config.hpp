#pragma once
/// \file The phenotype of one subnet, under the elastic module's name.
///
/// The type lives in core (search and elastic both read it, and search must not depend on
/// tensors); this header only gives it the `nat::elastic` name DESIGN.md promises.
#include "nat/core/subnet_config.hpp"

namespace nat::elastic {

/// One subnet of an elastic MobileNetV3: `{"r","w","ks","e","d"}` (nat_spec §1).
using subnet_config = nat::subnet_config;

}  // namespace nat::elastic
