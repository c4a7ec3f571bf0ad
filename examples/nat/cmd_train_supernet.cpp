// `nat train-supernet`: warms a supernet up on a task (nat_spec.md §5.3): train the largest subnet,
// sort the middle channels by importance, then train the whole supernet with sampled subnets and
// distillation from the phase-1 network. Each phase checkpoints every epoch and resumes.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/timer.hpp"
#include "nat/data/split.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/io/safetensors.hpp"
#include "options.hpp"
#include "task_data.hpp"
#include "warmup.hpp"

namespace nat_cli {

namespace {

const std::vector<option> train_options = {
    {"dataset", "NAME", "fashion-mnist (default), digits, or idx:DIR"},
    {"data", "PATH", "dataset location (default: the Debian package's directory)"},
    {"preset", "P", "supernet layout: mbv3_small (default), ofa_mbv3_w10, ofa_mbv3_w12"},
    {"out", "FILE", "supernet weights to write (default models/<dataset>_<preset>.safetensors)"},
    {"epochs-largest", "N", "phase 1: epochs of the largest subnet (default 10)"},
    {"epochs-supernet", "N", "phase 3: epochs of the whole supernet (default 20)"},
    {"largest-from", "DIR",
     "skip phase 1: start from a finished `nat train --subnet largest` run in DIR (same "
     "--dataset, --preset and --seed; its --val-images equal to --holdout). That run trained at "
     "one resolution, the only one its network knows, so phase 3's teacher sees every batch "
     "resized to it"},
    {"batch", "N", "batch size (default 128)"},
    {"lr", "X", "peak learning rate of phase 1 (default 0.1)"},
    {"lr-supernet", "X", "peak learning rate of phase 3 (default 0.05)"},
    {"subnets", "K", "subnets per step in phase 3 (default 4)"},
    {"sampling", "S", "phase 3 sampling: sandwich (default) or uniform"},
    {"kd", "X", "distillation weight in phase 3 (default 1.0; 0 = off)"},
    {"cutmix", "P",
     "CutMix in both phases with probability P per mix (two mixes, beta 1: NAT's pipeline uses "
     "0.5; default 0 = off)"},
    {"erasing", "P",
     "random erasing in both phases: zero a random box (2-33 % of the area) with probability P "
     "(default 0 = off)"},
    {"weight-decay", "X", "L2 weight decay in both phases, not on BN and biases (default 3e-5)"},
    {"resolutions", "LIST", "per-batch training resolutions (default: 28,32,36,40)"},
    {"max-steps", "N", "cap the steps of every epoch (quick runs; default: whole epochs)"},
    {"holdout", "N",
     "training images kept out for `nat search`'s validation split (default 5000, the paper "
     "preset's; the quick preset's 1000 are a subset for the same --seed; 0 = train on all)"},
    {"threads", "N", "worker threads (default: all cores)"},
    {"seed", "N", "random seed (default 0)"},
    {"init", "FILE",
     "phase 3 starts from this supernet (a finished warm-up of the same --preset, --dataset "
     "and --seed) instead of the sorted phase-1 network: continue a warm-up under a better "
     "teacher (--largest-from) without repeating its epochs"},
    {"checkpoint-every", "S",
     "also checkpoint within an epoch every S seconds (default 300; 0 = at epoch ends only)"},
    {"resume", "", "continue from the checkpoints next to --out"},
    {"quiet", "", "no progress bars"},
    {"json", "", "print a JSON summary on stdout"},
};

/// The checkpoint of a finished `nat train --subnet largest` run in `dir`, after checking that
/// it trained this preset's largest subnet on the same training images (a run that saw the
/// search's validation images would flatter exactly the accuracies the search ranks).
/// `resolution` receives the resolution that run trained at.
std::string largest_run_checkpoint(const std::string& dir, const std::string& dataset,
                                   const std::string& preset,
                                   const nat::elastic::supernet_config& layout, std::size_t holdout,
                                   std::uint64_t seed, std::size_t& resolution) {
  const std::string settings = dir + "/train.json", ckpt = dir + "/train.ckpt";
  for (const auto& p : {settings, ckpt, dir + "/result.json"})
    if (!nat::file_exists(p))
      throw usage_error("--largest-from: " + p +
                        " is missing (a finished `nat train --subnet largest --out DIR` run "
                        "holds train.json, train.ckpt and result.json)");
  const auto v = nat::json::parse(nat::read_file(settings));
  auto expect = [&](const std::string& key, const nat::json::value& want, const std::string& why) {
    if (v.at(key).dump() != want.dump())
      throw usage_error("--largest-from: " + dir + " trained with " + key + " " + v.at(key).dump() +
                        ", this warm-up needs " + want.dump() + " (" + why + ")");
  };
  expect("dataset", nat::json::value(dataset), "--dataset");
  expect("preset", nat::json::value(preset), "--preset");
  expect("seed", nat::json::value(static_cast<long long>(seed)), "--seed");
  expect("val_images", nat::json::value(static_cast<long long>(holdout)),
         "--holdout; the same seeded split");
  auto cfg = nat::subnet_config_from_json(v.at("subnet"));
  if (!(cfg == layout.largest(cfg.r)))
    throw usage_error("--largest-from: " + dir + " trained subnet " + v.at("subnet").dump() +
                      ", not the largest subnet of " + preset);
  resolution = static_cast<std::size_t>(cfg.r);
  return ckpt;
}

/// Refuses an --init file before any training: it must exist and hold every tensor of this
/// layout with its shape; one warmed up on this dataset with another seed held out other images,
/// so it has trained on the validation split `nat search --seed` draws.
void check_init(const std::string& path, const nat::elastic::supernet_config& layout,
                const std::string& dataset, const std::string& preset, std::uint64_t seed) {
  if (!nat::file_exists(path)) throw usage_error("--init: " + path + " does not exist");
  std::map<std::string, std::string> meta;
  nat::elastic::supernet probe(layout, seed);
  try {
    nat::io::load_safetensors<float>(path, &meta);
    nat::io::load_safetensors_into(path, probe.state_dict());
  } catch (const nat::error& e) {
    throw nat::config_error("--init: " + path + " is not a " + preset + " supernet with " +
                            std::to_string(layout.n_classes) + " classes and " +
                            std::to_string(layout.in_channels) + " input channels: " + e.what());
  }
  const auto it = meta.find("dataset"), s = meta.find("seed");
  if (it != meta.end() && it->second == dataset && s != meta.end() &&
      s->second != std::to_string(seed))
    throw usage_error("--init: " + path + " was warmed up on " + dataset + " with --seed " +
                      s->second + ", this run uses --seed " + std::to_string(seed) +
                      " (its training images include this seed's validation split)");
}

}  // namespace

int run_train_supernet(const std::vector<std::string>& argv) {
  const auto a = parse(argv, train_options);
  if (a.flag("help")) {
    std::printf("%s",
                help_text("train-supernet",
                          "Warms up a supernet on a dataset (NAT's supernet warm-up, nat_spec.md "
                          "5.3):\n  1. train the largest subnet;  2. sort middle channels by "
                          "importance;\n  3. train the supernet with sampled subnets and "
                          "distillation from phase 1.\n--largest-from DIR reuses a finished `nat "
                          "train --subnet largest` "
                          "run as phase 1.\nCheckpoints <out>.phase1.ckpt / "
                          ".phase3.ckpt are written every epoch and every "
                          "--checkpoint-every seconds within one; --resume continues.",
                          train_options)
                    .c_str());
    return 0;
  }
  const std::string dataset = a.get_or("dataset", "fashion-mnist");
  const std::string preset_name = a.get_or("preset", "mbv3_small");
  const std::string out = a.get_or("out", "models/" + dataset + "_" + preset_name + ".safetensors");
  const auto seed = static_cast<std::uint64_t>(a.get_int("seed", 0));
  const bool quiet = a.flag("quiet");
  std::unique_ptr<nat::thread_limit> limit;
  if (a.has("threads")) limit = std::make_unique<nat::thread_limit>(a.get_int("threads", 1));

  auto data = load_task_data(dataset, a.get_or("data", ""));
  // `nat search` scores subnets on a stratified split of the training images drawn with its seed;
  // a supernet that trained on those images would flatter exactly the accuracies the search
  // ranks. The split is nested (same seed: the 1000-image split lies inside the 5000-image one).
  const auto holdout = static_cast<std::size_t>(a.get_int("holdout", 5000));
  if (holdout > 0)
    data.train =
        nat::data::train_validation_split(data.train, holdout, seed, /*stratified=*/true).train;
  const auto layout = nat::elastic::preset(preset_name, data.train.n_classes(),
                                           static_cast<int>(data.train.channels()));
  const auto tf = nat::data::nat_transforms(data.train, data.flip,
                                            static_cast<std::size_t>(layout.in_channels));
  nat::elastic::supernet net(layout, seed);

  warmup_options o;
  o.epochs_largest = static_cast<std::size_t>(a.get_int("epochs-largest", 10));
  o.epochs_supernet = static_cast<std::size_t>(a.get_int("epochs-supernet", 20));
  o.batch = static_cast<std::size_t>(a.get_int("batch", 128));
  o.lr_largest = get_double(a, "lr", 0.1);
  o.lr_supernet = get_double(a, "lr-supernet", 0.05);
  o.subnets = static_cast<std::size_t>(a.get_int("subnets", 4));
  const std::string s = a.get_or("sampling", "sandwich");
  if (s != "sandwich" && s != "uniform")
    throw usage_error("--sampling expects sandwich or uniform, got \"" + s + "\"");
  o.sampling = s == "sandwich" ? nat::train::sampling::sandwich : nat::train::sampling::uniform;
  o.kd = get_double(a, "kd", 1.0);
  o.cutmix = get_double(a, "cutmix", 0.0);
  if (!(o.cutmix >= 0 && o.cutmix <= 1)) throw usage_error("--cutmix must lie in [0, 1]");
  o.erasing = get_double(a, "erasing", 0.0);
  if (!(o.erasing >= 0 && o.erasing <= 1)) throw usage_error("--erasing must lie in [0, 1]");
  o.weight_decay = get_double(a, "weight-decay", 3e-5);
  if (!(o.weight_decay >= 0 && o.weight_decay < 1))
    throw usage_error("--weight-decay must lie in [0, 1)");
  o.resolutions = parse_sizes(a.get_or("resolutions", "28,32,36,40"), "resolutions");
  o.max_steps = static_cast<std::size_t>(a.get_int("max-steps", 0));
  o.seed = seed;
  if (a.has("largest-from")) {
    if (a.has("epochs-largest"))
      throw usage_error("--largest-from replaces phase 1; drop --epochs-largest");
    o.largest_from = largest_run_checkpoint(a.get("largest-from"), dataset, preset_name, layout,
                                            holdout, seed, o.teacher_resolution);
    o.epochs_largest = 0;
  }
  o.resume = a.flag("resume");
  o.checkpoint_interval_s = checkpoint_interval(a);
  o.quiet = quiet;
  if (a.has("init")) {
    o.init = a.get("init");
    // A resumed phase 3 continues its checkpoint; the file only has to be there before that.
    if (!(o.resume && nat::file_exists(out + ".phase3.ckpt")))
      check_init(o.init, layout, dataset, preset_name, seed);
  }

  nat::timer clock;
  warm_up(net, data, tf, o, out, preset_name);

  // Report the two extremes on the test split after BN recalibration (no fine-tuning), at every
  // training resolution: the first one's figures keep their old keys.
  nat::json::value report;
  report["supernet"] = out;
  report["seconds"] = clock.seconds();
  report["holdout"] = holdout;
  if (!o.largest_from.empty()) {
    report["largest_from"] = o.largest_from;
    report["teacher_resolution"] = o.teacher_resolution;
  }
  if (!o.init.empty()) report["init"] = o.init;
  const int r0 = static_cast<int>(o.resolutions.front());
  nat::json::value by_resolution;
  for (const std::string name : {"largest", "smallest"}) {
    nat::json::value row;
    for (const auto r : o.resolutions) {
      const int ri = static_cast<int>(r);
      const auto cfg = name == "largest" ? layout.largest(ri) : layout.smallest(ri);
      const double top1 = recalibrated_accuracy(net, cfg, data, tf, data.test);
      row[std::to_string(r)] = top1;
      if (ri == r0) report[name + "_test_top1"] = top1;
      if (!quiet)
        std::fprintf(stderr, "%s subnet at %d px: test top-1 %.2f%%\n", name.c_str(), ri, top1);
    }
    by_resolution[name] = row;
  }
  report["test_top1_by_resolution"] = by_resolution;
  if (a.flag("json")) std::printf("%s\n", report.dump().c_str());
  return 0;
}

}  // namespace nat_cli
