#pragma once
// BN recalibration as every `nat` command does it (ofa_spec.md §5): one seed, one image count,
// so that figures agree between commands and exported subnets carry what was measured.
#include <cstddef>
#include <cstdint>

#include "nat/data/image_dataset.hpp"
#include "nat/data/transform.hpp"
#include "nat/elastic/bn_recalibration.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/train/evaluate.hpp"

namespace nat_cli {

/// Seed of the training images every `nat` command recalibrates BN statistics on, so that
/// `nat evaluate --supernet` reproduces the test figures of `nat search` exactly and an exported
/// subnet carries the same statistics. (`nat train-supernet` draws them from its training split
/// less the held-out images, so its report can differ by a tenth of a point.)
inline constexpr std::uint64_t calibration_seed = 937162211ULL;

/// Makes `cfg` the active subnet with BN statistics recalibrated for it on 2000 fixed images of
/// `train` (training transform). The statistics are shared by every subnet (each reads its
/// leading channels), so anything that reads a subnet's weights — an evaluation, an export, a
/// teacher — must follow this step for that subnet, not for whichever was recalibrated last.
inline void recalibrate_subnet(nat::elastic::supernet& net, const nat::subnet_config& cfg,
                               const nat::data::image_dataset& train,
                               const nat::data::transform_config& tf) {
  net.set_active(cfg);
  nat::elastic::recalibrate_bn(
      net, nat::train::calibration_batches<float>(train, tf.train, static_cast<std::size_t>(cfg.r),
                                                  2000, 200, calibration_seed));
}

}  // namespace nat_cli
