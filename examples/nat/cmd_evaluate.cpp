// `nat evaluate`: top-1 accuracy and loss of an exported subnet (`--subnet DIR`), or of a subnet
// of a supernet after BN recalibration (`--supernet FILE`), on a dataset split.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "calibration.hpp"
#include "cli.hpp"
#include "nat/core/json.hpp"
#include "nat/elastic/bn_recalibration.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/train/evaluate.hpp"
#include "nat/transfer/subnet_export.hpp"
#include "options.hpp"
#include "task_data.hpp"

namespace nat_cli {

// Defined in cmd_export.cpp: reading a supernet file, shared by both.
namespace subnet_args {
std::unique_ptr<nat::elastic::supernet> load_supernet(const parsed_args& a, const std::string& path,
                                                      const std::string& preset);
}  // namespace subnet_args

int run_evaluate(const std::vector<std::string>& argv) {
  const std::vector<option> opts = {
      {"subnet", "DIR", "an exported subnet (nat export / nat search)"},
      {"supernet", "FILE", "or: supernet weights; the subnet is given by --encoding/--config"},
      {"preset", "NAME", "supernet layout (with --supernet): mbv3_small | ofa_mbv3_w10 | ..."},
      {"n-classes", "K", "classifier outputs (with --supernet; default: from the file)"},
      {"in-channels", "C", "image channels (with --supernet; default: from the file)"},
      {"encoding", "DIGITS", "the subnet as NAT's 23-digit net.encoding (with --supernet)"},
      {"config", "JSON|FILE", "the subnet as {\"r\",\"w\",\"ks\",\"e\",\"d\"} (with --supernet)"},
      {"calib-images", "N", "training images for BN recalibration (with --supernet; 2000)"},
      {"calib-batch", "N", "batch size of BN recalibration (200)"},
      {"dataset", "NAME", "fashion-mnist | digits | idx:DIR"},
      {"split", "NAME", "test (default) | train"},
      {"data", "DIR", "where the dataset lives (default: the Debian package's path)"},
      {"batch", "N", "evaluation batch size (250)"},
      {"json", "", "print {\"top1\", \"loss\", \"images\"} as one JSON object on stdout"},
  };
  const auto a = parse(argv, opts);
  if (a.flag("help")) {
    std::fputs(
        help_text(
            "evaluate",
            "Top-1 accuracy (%) and mean cross-entropy of a subnet on a dataset split, at the "
            "subnet's own\nresolution r, with the evaluation transform (per-channel normalisation "
            "with the statistics of the\nTRAIN split; grey images are replicated when the network "
            "takes 3 channels).\n\n"
            "  nat evaluate --subnet DIR --dataset fashion-mnist [--split test]\n"
            "  nat evaluate --supernet FILE --preset P --encoding E --dataset digits\n\n"
            "With --supernet the subnet's BatchNorm statistics are first recalibrated (OFA) on a "
            "fixed seeded\nsubset of --calib-images training images under the training transform. "
            "digits (scikit-learn, 8x8,\n1797 images) has no official split: train/test are a "
            "fixed 80/20 stratified split (seed 0).",
            opts)
            .c_str(),
        stdout);
    return 0;
  }
  if (!a.positional.empty()) throw usage_error("unexpected argument \"" + a.positional[0] + "\"");
  if (a.has("subnet") == a.has("supernet")) throw usage_error("give either --subnet or --supernet");
  if (!a.has("dataset")) throw usage_error("--dataset is required (see --help)");
  if (a.has("subnet"))
    for (const char* o : {"preset", "encoding", "config", "n-classes", "in-channels",
                          "calib-images", "calib-batch"})
      if (a.has(o)) throw usage_error(std::string("--") + o + " only goes with --supernet");
  if (a.has("supernet") && !a.has("preset")) throw usage_error("--supernet needs --preset");
  const std::string split = a.get_or("split", "test");
  if (split != "test" && split != "train")
    throw usage_error("--split must be test or train, got \"" + split + "\"");
  const std::size_t batch = get_positive(a, "batch", 250);
  const std::size_t calib_images = get_positive(a, "calib-images", 2000);
  const std::size_t calib_batch = get_positive(a, "calib-batch", 200);

  // Check the subnet before the (slow) dataset load so that bad options fail at once.
  nat::transfer::loaded_subnet loaded;
  std::unique_ptr<nat::elastic::supernet> supernet;
  nat::subnet_config cfg;
  if (a.has("subnet")) {
    loaded = nat::transfer::load_exported_subnet(a.get("subnet"));
    cfg = loaded.info.config;
  } else {
    cfg = required_subnet_option(a, a.get("preset"));
    supernet = subnet_args::load_supernet(a, a.get("supernet"), a.get("preset"));
    supernet->set_active(cfg);
  }
  nat::nn::mobilenet_v3& net =
      supernet ? static_cast<nat::nn::mobilenet_v3&>(*supernet) : *loaded.net;
  const std::size_t in_ch = net.spec().in_channels, classes = net.spec().n_classes;

  const auto data = load_task_data(a.get("dataset"), a.get_or("data", ""));
  const auto& ds = split == "test" ? data.test : data.train;
  if (std::size_t(ds.n_classes()) != classes)
    throw usage_error("the network has " + std::to_string(classes) + " classes, dataset " +
                      a.get("dataset") + " has " + std::to_string(ds.n_classes()));
  if (ds.channels() != in_ch && !(ds.channels() == 1 && in_ch == 3))
    throw usage_error("the network takes " + std::to_string(in_ch) + " channels, dataset " +
                      a.get("dataset") + " has " + std::to_string(ds.channels()));
  const auto tf = nat::data::nat_transforms(data.train, data.flip, in_ch);
  const std::size_t r = static_cast<std::size_t>(cfg.r);
  if (supernet) {
    std::fprintf(stderr, "recalibrating BN on %zu training images at r=%zu\n",
                 std::min(calib_images, data.train.size()), r);
    const auto batches = nat::train::calibration_batches<float>(
        data.train, tf.train, r, calib_images, calib_batch, calibration_seed);
    nat::elastic::recalibrate_bn(*supernet, batches);
  }
  std::fprintf(stderr, "evaluating on %s/%s (%zu images) at r=%zu\n", a.get("dataset").c_str(),
               split.c_str(), ds.size(), r);
  const auto res = nat::train::evaluate(net, ds, tf.eval, r, batch);
  if (a.flag("json")) {
    nat::json::value j;
    j["top1"] = res.top1;
    j["loss"] = res.loss;
    j["images"] = res.images;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("top-1 %.2f %%  loss %.4f  (%zu images of %s/%s at r=%zu)\n", res.top1, res.loss,
                res.images, a.get("dataset").c_str(), split.c_str(), r);
  }
  return 0;
}

}  // namespace nat_cli
