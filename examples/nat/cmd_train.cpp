// `nat train`: one fixed subnet of the search space trained from scratch as an ordinary network —
// the baseline NAT's searched and transferred subnets are compared with (issues #5 and #8). The
// subnet is trained inside a fresh supernet with every step on that one subnet, so the network is
// literally the architecture NAT searches (same layers, same OFA initialisation, same weight names)
// and is exported the same way, ready for `nat evaluate --subnet`. With --init the same training
// starts from a supernet's weights: a searched subnet fine-tuned, the other side of that
// comparison.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "calibration.hpp"
#include "cli.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/timer.hpp"
#include "nat/data/split.hpp"
#include "nat/elastic/count.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/train/evaluate.hpp"
#include "nat/train/trainer.hpp"
#include "nat/transfer/subnet_export.hpp"
#include "options.hpp"
#include "task_data.hpp"

namespace nat_cli {

namespace {

const std::vector<option> train_options = {
    {"subnet", "S", "largest, smallest, mid, a NAT encoding, or JSON / a file / a subnet dir"},
    {"dataset", "NAME", "fashion-mnist (default), digits, or idx:DIR"},
    {"data", "PATH", "dataset location (default: the Debian package's)"},
    {"preset", "P", "supernet layout: mbv3_small (default), ofa_mbv3_w10, ofa_mbv3_w12"},
    {"init", "FILE", "start from these supernet weights instead of fresh ones (fine-tuning)"},
    {"kd-from", "FILE",
     "distil from the largest subnet of this supernet (its BN recalibrated on the training "
     "images), as NAT's adaptation does; e.g. the search's adapted supernet"},
    {"kd-ratio", "X", "weight of the distillation term (default 1 with --kd-from)"},
    {"epochs", "N", "training epochs (default 10)"},
    {"batch", "N", "batch size (default 128)"},
    {"lr", "X", "peak learning rate (default 0.1)"},
    {"cutmix", "P",
     "CutMix each training image with probability P per mix (two mixes, beta 1: NAT's pipeline "
     "uses 0.5; default 0 = off)"},
    {"erasing", "P", "zero a random box (2-33 % of the area) with probability P (default 0 = off)"},
    {"weight-decay", "X", "L2 weight decay, not on BN and biases (default 4e-5)"},
    {"resolution", "R", "input resolution (default: the subnet's own)"},
    {"val-images", "N", "held-out validation images (default min(1000, train/5); 0 = none)"},
    {"max-steps", "N", "cap the steps of every epoch (quick runs; default: whole epochs)"},
    {"threads", "N", "worker threads (default: all cores)"},
    {"seed", "N", "seed of weights, batches, augmentation and split (default 0)"},
    {"out", "DIR", "run and export directory (default runs/train-<timestamp>)"},
    {"checkpoint-every", "S",
     "also checkpoint within an epoch every S seconds (default 300; 0 = at epoch ends only)"},
    {"resume", "", "continue the run in --out DIR after a kill (its settings are kept)"},
    {"quiet", "", "no progress output"},
    {"json", "", "print the summary as one JSON object on stdout"},
};

const char* const train_description =
    "Trains ONE fixed subnet from freshly initialised weights as an ordinary network and reports\n"
    "its top-1 on the validation and test splits: the from-scratch baseline for NAT's subnets.\n"
    "With --init, the same training starts from a supernet's weights instead: NAT's inherited\n"
    "weights fine-tuned (nat_spec.md 8: inherited and fine-tuned accuracy are different "
    "claims).\n\n"
    "  nat train --subnet largest --dataset fashion-mnist --epochs 10\n"
    "  nat train --subnet 01011203200562076009771 --dataset digits --out runs/digits-scratch\n"
    "  nat train --subnet runs/latest/subnets/36 --dataset digits --init "
    "runs/latest/supernet/supernet.safetensors\n\n"
    "--subnet takes a NAT encoding (23 digits), {\"r\",\"w\",\"ks\",\"e\",\"d\"} JSON, a file "
    "holding it\nor an exported subnet's directory, or a keyword (below).\n\n"
    "The subnet is trained inside a fresh supernet of --preset with every step on that subnet, so\n"
    "it is exactly the architecture NAT searches (a kernel below the largest keeps OFA's form: a\n"
    "centre crop of the largest kernel times a learned transform). Keywords: largest (kernel 7,\n"
    "expand 6, depth 4), smallest (3, 3, 2) and mid (every choice list's middle value: kernel 5,\n"
    "expand 4, depth 3), all at the preset's lowest resolution (28 px for mbv3_small). --init\n"
    "takes a supernet file of the same --preset and class count (`nat train-supernet`'s output, a\n"
    "search run's supernet/supernet.safetensors) or a nat train run's train.ckpt.\n\n"
    "Recipe (train-supernet's phase 1 at one resolution): SGD with Nesterov momentum 0.9, weight\n"
    "decay 4e-5 (--weight-decay; none on BN and biases), cosine learning rate with one epoch of\n"
    "linear warm-up (none for a 1-epoch run), label smoothing 0.1, classifier dropout of the\n"
    "preset, batches of random crops (zero padding H/8), horizontal flips (Fashion-MNIST) and\n"
    "normalisation, resized to the fixed resolution; optionally CutMix (--cutmix) and random\n"
    "erasing (--erasing). BatchNorm keeps the statistics it tracked while training.\n"
    "--kd-from adds NAT's distillation (nat_spec.md 5.2): the loss becomes (k*CE(teacher's soft\n"
    "labels) + CE)*2/(k+1), k = --kd-ratio, the teacher being the largest subnet of that supernet\n"
    "at the subnet's resolution, its BN recalibrated on 2000 training images.\n\n"
    "The validation images are held out of the training split with the same seeded stratified\n"
    "split `nat search --seed N` uses. DIR receives train.json (settings), train.ckpt (after "
    "every\n"
    "epoch, atomically), epochs.json (loss, train and validation top-1 of every epoch), the\n"
    "exported subnet (weights.safetensors, subnet.json, net.config, info.json; `nat evaluate\n"
    "--subnet DIR` reproduces test_top1) and result.json.\n"
    "--resume continues a killed run and ends with the result of an uninterrupted one (same\n"
    "machine and --threads).";

/// The settings that define a run; stored in train.json, compared on --resume.
struct train_settings {
  std::string dataset = "fashion-mnist";
  std::string data;
  std::string preset = "mbv3_small";
  nat::subnet_config subnet;
  std::string init;     ///< supernet weights to start from; empty: a fresh initialisation
  std::string kd_from;  ///< supernet whose largest subnet is the teacher; empty: no distillation
  double kd_ratio = 0.0;
  std::size_t epochs = 10;
  std::size_t batch = 128;
  double lr = 0.1;
  double cutmix = 0.0;
  double erasing = 0.0;
  double weight_decay = 4e-5;
  std::size_t max_steps = 0;
  std::size_t val_images = 0;
  std::uint64_t seed = 0;
};

nat::json::value to_json(const train_settings& s) {
  nat::json::value v;
  v["dataset"] = s.dataset;
  v["data"] = s.data;
  v["preset"] = s.preset;
  v["subnet"] = nat::to_json(s.subnet);
  v["init"] = s.init;
  v["kd_from"] = s.kd_from;
  v["kd_ratio"] = s.kd_ratio;
  v["epochs"] = s.epochs;
  v["batch"] = s.batch;
  v["lr"] = s.lr;
  v["cutmix"] = s.cutmix;
  v["erasing"] = s.erasing;
  v["weight_decay"] = s.weight_decay;
  v["max_steps"] = s.max_steps;
  v["val_images"] = s.val_images;
  v["seed"] = s.seed;
  return v;
}

train_settings settings_from_json(const nat::json::value& v) {
  train_settings s;
  s.dataset = v.at("dataset").as_string();
  s.data = v.at("data").as_string();
  s.preset = v.at("preset").as_string();
  s.subnet = nat::subnet_config_from_json(v.at("subnet"));
  if (v.contains("init")) s.init = v.at("init").as_string();  // absent before --init existed
  if (v.contains("kd_from")) s.kd_from = v.at("kd_from").as_string();  // and before --kd-from
  if (v.contains("kd_ratio")) s.kd_ratio = v.at("kd_ratio").as_number();
  s.epochs = static_cast<std::size_t>(v.at("epochs").as_int());
  s.batch = static_cast<std::size_t>(v.at("batch").as_int());
  s.lr = v.at("lr").as_number();
  if (v.contains("cutmix")) s.cutmix = v.at("cutmix").as_number();  // absent before --cutmix
  // Absent in runs older than --erasing / --weight-decay, which trained with these defaults.
  if (v.contains("erasing")) s.erasing = v.at("erasing").as_number();
  if (v.contains("weight_decay")) s.weight_decay = v.at("weight_decay").as_number();
  s.max_steps = static_cast<std::size_t>(v.at("max_steps").as_int());
  s.val_images = static_cast<std::size_t>(v.at("val_images").as_int());
  s.seed = static_cast<std::uint64_t>(v.at("seed").as_int());
  return s;
}

/// The subnet `text` names in `layout` (see --subnet); usage_error for anything else.
nat::subnet_config subnet_from_text(const std::string& text,
                                    const nat::elastic::supernet_config& layout) {
  const int r0 = layout.resolutions.front();
  auto middle = [](const std::vector<int>& v) { return v[v.size() / 2]; };
  if (text == "largest") return layout.largest(r0);
  if (text == "smallest") return layout.smallest(r0);
  if (text == "mid")
    return layout.uniform(middle(layout.kernel_list), middle(layout.expand_list),
                          middle(layout.depth_list), r0);
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (digits) {
    try {
      return decode_encoding(text, layout.name);
    } catch (const nat::error& e) {
      throw usage_error("--subnet: " + std::string(e.what()));
    }
  }
  if (text.find('{') == std::string::npos && !nat::file_exists(text))
    throw usage_error("--subnet: \"" + text +
                      "\" is not largest, smallest, mid, a NAT encoding, JSON or an existing file");
  return read_subnet_config(text, "--subnet");
}

/// Per-epoch statistics of the run, all invocations together (epoch number -> JSON).
using epoch_log = std::map<std::size_t, nat::json::value>;

epoch_log read_epoch_log(const std::string& path) {
  epoch_log log;
  if (!nat::file_exists(path)) return log;
  // Named: a range-for over parse(...).as_array() would iterate a destroyed temporary.
  const nat::json::value doc = nat::json::parse(nat::read_file(path));
  for (const auto& e : doc.as_array()) log[static_cast<std::size_t>(e.at("epoch").as_int())] = e;
  return log;
}

void write_epoch_log(const std::string& path, const epoch_log& log) {
  nat::json::array a;
  for (const auto& kv : log) a.push_back(kv.second);
  nat::write_file_atomic(path, nat::json::value(a).dump(1) + "\n");
}

}  // namespace

int run_train(const std::vector<std::string>& argv) {
  const auto a = parse(argv, train_options);
  if (a.flag("help")) {
    std::fputs(help_text("train", train_description, train_options).c_str(), stdout);
    return 0;
  }
  if (!a.positional.empty()) throw usage_error("unexpected argument \"" + a.positional[0] + "\"");
  const nat::timer clock;
  const bool resume = a.flag("resume"), quiet = a.flag("quiet");
  if (resume && !a.has("out")) throw usage_error("--resume needs --out DIR, the run to continue");
  const std::string out = a.get_or("out", "runs/train-" + run_timestamp());
  const std::string settings_path = out + "/train.json", ckpt = out + "/train.ckpt",
                    epochs_path = out + "/epochs.json", result_path = out + "/result.json";

  // Settings: the flags; a resumed run's own where a flag is not given (and must match where it
  // is). Everything is checked before the (slow) dataset load so that bad input fails at once.
  train_settings stored;
  if (resume) {
    if (!nat::file_exists(settings_path))
      throw usage_error("--resume: " + out + " holds no train.json (not a nat train run)");
    try {
      stored = settings_from_json(nat::json::parse(nat::read_file(settings_path)));
    } catch (const nat::error& e) {
      throw nat::io_error("--resume: " + settings_path + ": " + e.what());
    }
  } else if (!a.has("subnet")) {
    throw usage_error("--subnet is required (largest, smallest, mid, an encoding or a config)");
  }
  train_settings s = stored;
  s.dataset = a.get_or("dataset", resume ? stored.dataset : "fashion-mnist");
  s.data = a.get_or("data", resume ? stored.data : "");
  s.preset = a.get_or("preset", resume ? stored.preset : "mbv3_small");
  const auto layout0 = nat::elastic::preset(s.preset);  // unknown names fail here
  if (a.has("subnet")) s.subnet = subnet_from_text(a.get("subnet"), layout0);
  if (a.has("resolution")) s.subnet.r = static_cast<int>(get_positive(a, "resolution", s.subnet.r));
  layout0.check(s.subnet, "--subnet");
  s.init = a.get_or("init", resume ? stored.init : "");
  // A resumed run that has a checkpoint starts from it, so its --init file may be gone by then.
  const bool load_init = !s.init.empty() && !(resume && nat::file_exists(ckpt));
  if (load_init && !nat::file_exists(s.init))
    throw usage_error("--init: " + s.init + " does not exist");
  // The teacher is rebuilt from its file on every (resumed) invocation, so the file must stay.
  s.kd_from = a.get_or("kd-from", resume ? stored.kd_from : "");
  if (!s.kd_from.empty() && !nat::file_exists(s.kd_from))
    throw usage_error("--kd-from: " + s.kd_from + " does not exist");
  if (a.has("kd-ratio") && s.kd_from.empty()) throw usage_error("--kd-ratio needs --kd-from");
  s.kd_ratio =
      s.kd_from.empty()
          ? 0.0
          : get_double(a, "kd-ratio", resume && !stored.kd_from.empty() ? stored.kd_ratio : 1.0);
  if (!(s.kd_ratio > 0) && !s.kd_from.empty()) throw usage_error("--kd-ratio must be positive");
  s.epochs = get_positive(a, "epochs", resume ? static_cast<long long>(stored.epochs) : 10);
  s.batch = get_positive(a, "batch", resume ? static_cast<long long>(stored.batch) : 128);
  s.lr = get_double(a, "lr", resume ? stored.lr : 0.1);
  if (!(s.lr > 0)) throw usage_error("--lr must be positive");
  s.cutmix = get_double(a, "cutmix", resume ? stored.cutmix : 0.0);
  if (!(s.cutmix >= 0 && s.cutmix <= 1)) throw usage_error("--cutmix must lie in [0, 1]");
  s.erasing = get_double(a, "erasing", resume ? stored.erasing : 0.0);
  if (!(s.erasing >= 0 && s.erasing <= 1)) throw usage_error("--erasing must lie in [0, 1]");
  s.weight_decay = get_double(a, "weight-decay", resume ? stored.weight_decay : 4e-5);
  if (!(s.weight_decay >= 0 && s.weight_decay < 1))
    throw usage_error("--weight-decay must lie in [0, 1)");
  const long long max_steps = a.get_int("max-steps", static_cast<long long>(stored.max_steps));
  if (max_steps < 0) throw usage_error("--max-steps must be >= 0");
  s.max_steps = static_cast<std::size_t>(max_steps);
  s.seed = static_cast<std::uint64_t>(a.get_int("seed", static_cast<long long>(stored.seed)));
  const long long val_images = a.get_int("val-images", -1);
  if (a.has("val-images") && val_images < 0) throw usage_error("--val-images must be >= 0");
  const double checkpoint_every = checkpoint_interval(a);  // not a setting: results do not change

  std::unique_ptr<nat::thread_limit> limit;
  if (a.has("threads")) limit = std::make_unique<nat::thread_limit>(get_positive(a, "threads", 1));

  const auto data = load_task_data(s.dataset, s.data);
  if (val_images >= 0)
    s.val_images = static_cast<std::size_t>(val_images);
  else if (!resume)
    s.val_images = std::min<std::size_t>(1000, data.train.size() / 5);
  if (s.val_images + s.batch > data.train.size())
    throw usage_error("the training split of " + s.dataset + " has " +
                      std::to_string(data.train.size()) + " images, fewer than --val-images " +
                      std::to_string(s.val_images) + " plus one batch of " +
                      std::to_string(s.batch));
  // A path given again on --resume may be spelled differently (relative to another directory,
  // through a link): the same file is the same setting, and the run keeps its own spelling.
  const auto same_file = [](const std::string& x, const std::string& y) {
    if (x == y) return true;
    if (x.empty() || y.empty()) return false;
    std::error_code ec;
    return std::filesystem::equivalent(x, y, ec) && !ec;
  };
  if (resume && same_file(s.init, stored.init)) s.init = stored.init;
  if (resume && same_file(s.data, stored.data)) s.data = stored.data;
  if (resume && same_file(s.kd_from, stored.kd_from)) s.kd_from = stored.kd_from;
  if (resume && to_json(s).dump() != to_json(stored).dump()) {
    const auto now = to_json(s), then = to_json(stored);
    for (const auto& [key, v] : then.as_object())
      if (now.at(key).dump() != v.dump())
        throw usage_error("--resume: " + key + " is " + now.at(key).dump() + ", the run in " + out +
                          " used " + v.dump());
  }

  const auto layout = nat::elastic::preset(s.preset, data.train.n_classes(),
                                           static_cast<int>(data.train.channels()));
  const auto& cfg = s.subnet;
  const auto r = static_cast<std::size_t>(cfg.r);
  // Normalisation statistics of the whole training split, as `nat evaluate` computes them.
  auto tf = nat::data::nat_transforms(data.train, data.flip,
                                      static_cast<std::size_t>(layout.in_channels));
  tf.train.random_erasing = s.erasing;
  // The validation images: the same seeded stratified split `nat search --seed` holds out.
  nat::data::train_validation split;
  if (s.val_images > 0)
    split = nat::data::train_validation_split(data.train, s.val_images, s.seed,
                                              /*stratified=*/true);
  else
    split.train = data.train;

  // Not strict: a train.ckpt also holds the optimiser's state. Every tensor of the supernet must
  // be there with this layout's shape.
  const auto load_weights = [&](const std::string& path, const std::string& flag,
                                nat::elastic::supernet& into) {
    try {
      nat::io::load_safetensors_into(path, into.state_dict(), /*strict=*/false);
    } catch (const nat::error& e) {
      throw nat::config_error(flag + ": not a " + s.preset + " supernet with " +
                              std::to_string(layout.n_classes) + " classes and " +
                              std::to_string(layout.in_channels) + " input channels: " + e.what());
    }
  };
  nat::elastic::supernet net(layout, s.seed);
  if (load_init) load_weights(s.init, "--init", net);
  // The teacher: the largest subnet of --kd-from at the student's resolution, with BN statistics
  // recalibrated for it (a supernet's stored statistics mix every subnet it trained). Fixed
  // calibration images, so a resumed run distils from the same teacher.
  std::unique_ptr<nat::nn::mobilenet_v3> teacher;
  if (!s.kd_from.empty()) {
    nat::elastic::supernet tnet(layout, s.seed);
    load_weights(s.kd_from, "--kd-from", tnet);
    recalibrate_subnet(tnet, layout.largest(cfg.r), split.train, tf);
    teacher = tnet.extract();
    teacher->eval();
  }
  nat::make_dirs(out);
  if (!resume)
    for (const auto& p : {ckpt, epochs_path, result_path}) std::remove(p.c_str());
  nat::write_file_atomic(settings_path, to_json(s).dump(2) + "\n");
  const std::string encoding = nat::transfer::nat_encoding_for(layout, cfg);
  const auto macs = nat::elastic::count_macs(layout, cfg);
  const auto params = nat::elastic::count_params(layout, cfg);
  if (!quiet)
    std::fprintf(stderr,
                 "nat train: %s subnet %s at r=%zu (%.2f M MACs, %.3f M params) on %s (%zu "
                 "training, %zu validation images), run directory %s\n",
                 s.preset.c_str(),
                 encoding.empty() ? nat::to_json(cfg).dump().c_str() : encoding.c_str(), r,
                 double(macs) / 1e6, double(params) / 1e6, s.dataset.c_str(), split.train.size(),
                 split.validation.size(), out.c_str());

  nat::train::trainer_config c;
  c.epochs = s.epochs;
  c.batch_size = s.batch;
  c.lr = s.lr;
  c.momentum = 0.9;
  c.nesterov = true;
  c.weight_decay = s.weight_decay;
  c.warmup_epochs = s.epochs > 1 ? 1 : 0;
  c.label_smoothing = 0.1;
  c.cutmix.prob = s.cutmix;
  c.sample = nat::train::sampling::custom;
  c.subnets_per_step = 1;
  c.resolutions = {r};
  c.max_steps_per_epoch = s.max_steps;
  c.seed = s.seed;
  c.checkpoint = ckpt;
  c.resume = true;  // a fresh run removed the checkpoint above
  c.checkpoint_interval_s = checkpoint_every;
  c.quiet = quiet;
  c.kd_ratio = s.kd_ratio;
  nat::train::trainer<float> tr(net, split.train, tf.train, c);
  if (teacher) tr.set_teacher(teacher.get(), r);
  tr.set_sampler([&cfg](nat::rng&, std::size_t) { return cfg; });
  epoch_log log = read_epoch_log(epochs_path);
  tr.set_epoch_callback([&](const nat::train::epoch_stats& st) {
    nat::json::value e;
    e["epoch"] = st.epoch;
    e["loss"] = st.loss;
    e["train_top1"] = st.accuracy;
    e["images_per_s"] = st.images_per_second;
    e["seconds"] = st.seconds;
    log[st.epoch] = e;
    write_epoch_log(epochs_path, log);  // the trainer's progress bar has shown the epoch
    // The validation curve, so that a long run that has stopped improving can be seen (and
    // stopped) before it ends. Written in a second step: a kill during the evaluation keeps the
    // epoch's line. Evaluation draws no random numbers and leaves BN statistics alone, so the
    // training, and a resumed run, go on exactly as without it.
    if (!split.validation.empty()) {
      net.set_active(cfg);
      e["val_top1"] = nat::train::evaluate(*net.extract(), split.validation, tf.eval, r).top1;
      log[st.epoch] = e;
      write_epoch_log(epochs_path, log);
    }
  });
  tr.run();

  // The trained network as it is (BN statistics tracked during training), evaluated as exported.
  net.set_active(cfg);
  auto trained = net.extract();
  nat::json::value val_top1 = nullptr;
  if (!split.validation.empty())
    val_top1 = nat::train::evaluate(*trained, split.validation, tf.eval, r).top1;
  const double test_top1 = nat::train::evaluate(*trained, data.test, tf.eval, r).top1;
  std::map<std::string, double> metrics = {{"test_acc", test_top1}};
  if (val_top1.is_number()) metrics["val_acc"] = val_top1.as_number();
  nat::transfer::export_subnet(out, net, cfg, metrics);

  double train_s = 0, images = 0;
  for (const auto& [epoch, e] : log)
    if (epoch <= s.epochs) {
      train_s += e.at("seconds").as_number();
      images += e.at("images_per_s").as_number() * e.at("seconds").as_number();
    }
  nat::json::value report;
  report["val_top1"] = val_top1;
  report["test_top1"] = test_top1;
  report["epochs"] = s.epochs;
  report["wall_s"] = train_s;
  report["images_per_s"] = train_s > 0 ? images / train_s : 0.0;
  report["macs"] = macs;
  report["params"] = params;
  report["subnet"] = nat::to_json(cfg);
  if (!encoding.empty()) report["encoding"] = encoding;
  report["dataset"] = s.dataset;
  report["out"] = out;
  report["seconds"] = clock.seconds();
  nat::write_file_atomic(result_path, report.dump(1) + "\n");
  if (a.flag("json")) {
    std::printf("%s\n", report.dump().c_str());
  } else {
    char val[32] = "-";
    if (val_top1.is_number()) std::snprintf(val, sizeof val, "%.2f %%", val_top1.as_number());
    std::printf(
        "%s: %zu epochs in %.0f s (%.0f img/s), %.2f M MACs, %.3f M params: val top-1 %s, test "
        "top-1 %.2f %%; exported to %s\n",
        a.get_or("subnet", encoding.empty() ? "subnet" : encoding).c_str(), s.epochs, train_s,
        report.at("images_per_s").as_number(), double(macs) / 1e6, double(params) / 1e6, val,
        test_top1, out.c_str());
  }
  return 0;
}

}  // namespace nat_cli
