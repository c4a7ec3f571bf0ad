// `nat search`: the product. Given a dataset and a supernet (a trained one from models/, or one
// warmed up first), NAT returns a front of task-specific subnets under several objectives in a run
// directory that a killed run resumes from (`--resume DIR`).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/timer.hpp"
#include "nat/elastic/latency_table.hpp"
#include "nat/elastic/measure_latency.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/metrics/high_tradeoff.hpp"
#include "nat/search/dynamic_mbv3_space.hpp"
#include "nat/transfer/nat_loop.hpp"
#include "nat/transfer/report.hpp"
#include "nat/transfer/subnet_export.hpp"
#include "nat/transfer/supernet_task.hpp"
#include "options.hpp"
#include "task_data.hpp"
#include "warmup.hpp"

namespace nat_cli {

namespace {

const std::vector<option> search_options = {
    {"dataset", "NAME", "fashion-mnist (default), digits, or idx:DIR"},
    {"data", "PATH", "dataset location (default: the Debian package's)"},
    {"preset", "P", "settings: quick (default, ~20 min on 2 cores) or paper (nat_spec.md)"},
    {"config", "FILE", "JSON settings (see config.json of a run) applied over the preset"},
    {"supernet", "FILE",
     "trained supernet weights (default models/<dataset>_<layout>.safetensors "
     "when present, else one is warmed up first)"},
    {"transfer-from", "FILE",
     "transfer: start the warm-up from this supernet, trained on another dataset (NAT's "
     "pre-trained supernet; tensors are copied by name, a classifier of another class "
     "count starts fresh), instead of from random weights"},
    {"layout", "P", "supernet layout: mbv3_small (default) or ofa_mbv3_w10/_w12"},
    {"objectives", "LIST",
     "err plus any of macs, params, cpu_latency and err:DATASET (top-1 on a further "
     "dataset, fashion-mnist, digits or idx:DIR, with its own copy of the supernet; "
     "up to 12 in all; default err,macs)"},
    {"latency-table", "FILE",
     "per-layer CPU latency table for the cpu_latency objective (default: measured on this "
     "machine at batch 1 when the run starts, saved as latency_table.json in the run)"},
    {"algorithm", "A", "nat (default) or random (same supernet and evaluation budget)"},
    {"surrogate", "S", "rbf, rbf_ensemble, gp, cart, cart_ensemble, mlp or as (default)"},
    {"seed", "N", "random seed (default 0)"},
    {"run-dir", "DIR", "where the run lives (default runs/<timestamp>; runs/latest points to it)"},
    {"resume", "DIR", "continue the run in DIR after a kill (settings come from DIR)"},
    {"warmup-epochs", "N,M", "warm-up without a supernet: epochs of phases 1 and 3 (default 1,1)"},
    {"warmup-max-steps", "N", "warm-up: cap the steps of every epoch (default 60)"},
    {"threads", "N", "worker threads (default: all cores)"},
    {"quiet", "", "no progress output"},
    {"json", "", "print the front as one JSON object on stdout"},
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    const auto c = s.find(',', pos);
    out.push_back(s.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return out;
}

// A further dataset of a multi-dataset run (objective err:<name>): its data, split and transforms,
// and its own copy of the starting supernet, adapted on it by its own task (nat_spec.md §4.3).
struct extra_dataset {
  std::string name;
  task_data data;
  nat::data::transform_config tf;
  nat::data::train_validation split;
  std::unique_ptr<nat::elastic::supernet> net;
  std::unique_ptr<nat::transfer::supernet_task> task;
};

// A copy of `from` for a dataset with `layout` (the same supernet but possibly another class
// count): every tensor is copied except a classifier whose shape differs, which keeps the fresh
// initialisation of `layout`'s supernet (as NAT resets the classifier for a new dataset, §5.3).
// Returns whether the classifier was re-initialised.
bool copy_supernet(const nat::elastic::supernet& from, nat::elastic::supernet& to) {
  std::map<std::string, nat::tensor<float>> src;
  for (const auto& [name, t] : from.state_dict()) src.emplace(name, t);
  bool fresh_head = false;
  for (const auto& [name, t] : to.state_dict()) {
    const auto it = src.find(name);
    if (it != src.end() && it->second.shape() == t.shape()) {
      t.copy_from(it->second);
    } else if (name.rfind("classifier.", 0) == 0) {
      fresh_head = true;
    } else {
      throw nat::config_error("nat search: the supernet for a further dataset has no tensor " +
                              name + " of the primary supernet's shape");
    }
  }
  return fresh_head;
}

// Points runs/latest at the run directory (a relative symlink, replaced atomically).
void link_latest(const std::string& run_dir) {
  const std::string parent = nat::parent_dir(run_dir);
  if (parent.empty()) return;
  const std::string name = run_dir.substr(parent.size() + 1), link = parent + "/latest",
                    tmp = link + ".tmp";
  ::unlink(tmp.c_str());
  if (::symlink(name.c_str(), tmp.c_str()) == 0) std::rename(tmp.c_str(), link.c_str());
}

}  // namespace

int run_search(const std::vector<std::string>& argv) {
  const auto a = parse(argv, search_options);
  if (a.flag("help")) {
    std::printf("%s",
                help_text("search",
                          "Runs Neural Architecture Transfer on a dataset and writes a Pareto "
                          "front of\nready-to-use subnets: front.csv, front.json, front.svg, "
                          "archive.jsonl, state.json,\nand subnets/<id>/ (weights, net.config, "
                          "subnet.json) for every front subnet.",
                          search_options)
                    .c_str());
    return 0;
  }
  const bool quiet = a.flag("quiet");
  std::unique_ptr<nat::thread_limit> limit;
  if (a.has("threads")) limit = std::make_unique<nat::thread_limit>(a.get_int("threads", 1));

  // Settings: a resumed run takes its own; a new one starts from the preset, then --config, then
  // flags.
  std::string run_dir;
  nat::transfer::nat_config cfg;
  std::string layout_name = a.get_or("layout", "mbv3_small");
  // The warm-up's own settings. A fresh run records them with its settings in launch.json before
  // anything is trained: config.json only appears once the warm-ups are done, and a run killed
  // during one must resume it as it started (not with the flags' defaults).
  std::string warmup_epochs = a.get_or("warmup-epochs", "1,1");
  long long warmup_max_steps = a.get_int("warmup-max-steps", 60);
  std::string transfer_from = a.get_or("transfer-from", "");
  bool settled = false;  // cfg is the run's final config.json (nothing left to derive)
  if (a.has("resume")) {
    run_dir = a.get("resume");
    const std::string record = run_dir + "/launch.json";
    if (nat::file_exists(run_dir + "/config.json")) {
      cfg = nat::transfer::nat_config_from_json(
          nat::json::parse(nat::read_file(run_dir + "/config.json")));
      settled = true;
    } else if (nat::file_exists(record)) {
      try {
        const auto w = nat::json::parse(nat::read_file(record));
        cfg = nat::transfer::nat_config_from_json(w.at("config"));
        warmup_epochs = w.at("epochs").as_string();
        warmup_max_steps = static_cast<long long>(w.at("max_steps").as_int());
        transfer_from = w.at("transfer_from").as_string();
      } catch (const std::exception& e) {
        throw nat::io_error("--resume: " + record + " is damaged (" + e.what() + ")");
      }
    } else {
      throw nat::io_error("--resume: " + run_dir +
                          " holds neither config.json nor launch.json (not a run directory)");
    }
    layout_name = cfg.supernet_preset;
    // A run started from a supernet file needs it until it has saved its own adapted copy; only a
    // run that warms its supernet up itself may find none (it continues the warm-up).
    std::error_code ec;
    const auto own =
        std::filesystem::weakly_canonical(run_dir + "/warmup/supernet.safetensors", ec);
    const bool own_warmup = !ec && std::filesystem::weakly_canonical(cfg.supernet_path, ec) == own;
    if (!own_warmup && !nat::file_exists(cfg.supernet_path) &&
        !nat::file_exists(run_dir + "/supernet/supernet.safetensors"))
      throw nat::io_error("--resume: the run's supernet " + cfg.supernet_path +
                          " is missing (and the run has not saved an adapted copy yet)");
  } else {
    cfg = nat::transfer::preset(a.get_or("preset", "quick"));
    if (a.has("config"))
      cfg = nat::transfer::nat_config_from_json(nat::json::parse(nat::read_file(a.get("config"))),
                                                cfg);
    if (a.has("transfer-from") && a.has("supernet"))
      throw usage_error(
          "--transfer-from warms a supernet up on this dataset; --supernet skips the "
          "warm-up: give one of them");
    if (a.has("transfer-from") && !nat::file_exists(transfer_from))
      throw usage_error("--transfer-from: " + transfer_from + " does not exist");
    cfg.supernet_preset = layout_name;
    if (a.has("dataset")) cfg.dataset = a.get("dataset");
    if (a.has("data")) cfg.data_dir = a.get("data");
    if (a.has("objectives")) cfg.objectives = split_list(a.get("objectives"));
    if (a.has("algorithm")) cfg.algorithm = a.get("algorithm");
    if (a.has("surrogate")) cfg.surrogate = a.get("surrogate");
    if (a.has("seed")) cfg.seed = static_cast<std::uint64_t>(a.get_int("seed", 0));
    run_dir = a.get_or("run-dir", "runs/" + run_timestamp());
    const std::string default_supernet =
        "models/" + cfg.dataset + "_" + layout_name + ".safetensors";
    if (a.has("supernet")) {
      cfg.supernet_path = a.get("supernet");
      // Not a warm-up target: a wrong path would otherwise start hours of training into it.
      if (!nat::file_exists(cfg.supernet_path))
        throw usage_error("--supernet: " + cfg.supernet_path + " does not exist");
    } else if (nat::file_exists(default_supernet))
      cfg.supernet_path = default_supernet;
    else
      cfg.supernet_path = run_dir + "/warmup/supernet.safetensors";
    cfg.validate();
  }
  nat::make_dirs(run_dir);
  if (!a.has("resume")) {
    nat::json::value w;
    w["config"] = nat::transfer::to_json(cfg);
    w["epochs"] = warmup_epochs;
    w["max_steps"] = warmup_max_steps;
    w["transfer_from"] = transfer_from;
    nat::write_file_atomic(run_dir + "/launch.json", w.dump(1) + "\n");
  }
  link_latest(run_dir);
  if (!quiet) std::fprintf(stderr, "nat search: run directory %s\n", run_dir.c_str());

  auto data = load_task_data(cfg.dataset, cfg.data_dir);
  const auto layout = nat::elastic::preset(layout_name, data.train.n_classes(),
                                           static_cast<int>(data.train.channels()));
  const auto tf = nat::data::nat_transforms(data.train, data.flip,
                                            static_cast<std::size_t>(layout.in_channels));
  // The search validation split is held out of the training images (nat_spec.md §5.4).
  auto split =
      nat::data::train_validation_split(data.train, cfg.evaluation.validation_images, cfg.seed,
                                        /*stratified=*/true);
  auto space = layout_name == "mbv3_small" ? nat::search::make_space("small")
                                           : nat::search::make_space("nat_mbv3");

  nat::elastic::supernet net(layout, cfg.seed);
  auto warmup_settings = [&] {
    warmup_options o;
    const auto ep = parse_sizes(warmup_epochs, "warmup-epochs");
    if (ep.size() != 2) throw usage_error("--warmup-epochs expects two numbers, N,M");
    o.epochs_largest = ep[0];
    o.epochs_supernet = ep[1];
    if (warmup_max_steps < 0) throw usage_error("--warmup-max-steps must be >= 0");
    o.max_steps = static_cast<std::size_t>(warmup_max_steps);
    const auto res = space.resolutions();
    o.resolutions.assign(res.begin(), res.end());
    o.seed = cfg.seed;
    o.resume = true;
    o.quiet = quiet;
    return o;
  };
  if (!nat::file_exists(cfg.supernet_path) &&
      nat::file_exists(run_dir + "/supernet/supernet.safetensors")) {
    // A resumed run whose source file is gone: the loop restores the run's own adapted copy.
  } else if (!nat::file_exists(cfg.supernet_path)) {
    // No trained supernet: warm one up on the adaptation split first (nat_spec.md §5.3), resumable.
    const auto o = warmup_settings();
    task_data adapt{data.name, split.train, data.test, data.flip};
    const std::string& w = cfg.supernet_path;
    const bool started = nat::file_exists(w + ".phase1.ckpt") ||
                         nat::file_exists(w + ".teacher.safetensors") ||
                         nat::file_exists(w + ".phase3.ckpt");
    if (!transfer_from.empty() && started && !nat::file_exists(transfer_from)) {
      // A resumed warm-up continues from its checkpoints, which hold the transferred weights.
    } else if (!transfer_from.empty()) {
      // NAT's transfer (nat_spec.md §5.3): a supernet trained elsewhere is warmed up on this task
      // (its classifier retrained) before the search adapts it further.
      if (!nat::file_exists(transfer_from))
        throw nat::io_error("--transfer-from: " + transfer_from + " does not exist");
      const auto src = nat::io::load_safetensors<float>(transfer_from);
      std::size_t copied = 0;
      for (const auto& [name, t] : net.state_dict()) {
        const auto it = src.find(name);
        if (it != src.end() && it->second.shape() == t.shape()) {
          t.copy_from(it->second);
          ++copied;
        } else if (name.rfind("classifier.", 0) != 0) {
          throw nat::config_error("--transfer-from: " + transfer_from + " has no tensor " + name +
                                  " of this supernet's shape (another "
                                  "layout or input channel count?)");
        }
      }
      if (!quiet)
        std::fprintf(stderr, "nat search: transferring %zu tensors from %s\n", copied,
                     transfer_from.c_str());
    }
    if (!quiet) std::fprintf(stderr, "nat search: no trained supernet, warming one up first\n");
    warm_up(net, adapt, tf, o, cfg.supernet_path, layout_name);
  } else {
    nat::io::load_safetensors_into(cfg.supernet_path, net.state_dict());
  }

  if (!settled && (cfg.adaptation.resolutions.empty() || cfg.max_resolution == 0)) {
    // A supernet warmed up on fewer sizes than the space holds (`nat train-supernet` records
    // them) is adapted only at those, as the paper adapts over its warm-up's range: batches at the
    // other sizes cost more and trained no better subnet (docs/RESULTS.md). Nor are subnets
    // searched above its largest size, where no weights were trained (the space's largest subnet
    // would otherwise sit there, below the smallest). Written to config.json, so a resumed run
    // keeps both.
    const auto all = space.resolutions();
    std::map<std::string, std::string> meta;
    nat::io::load_safetensors<float>(cfg.supernet_path, &meta);
    const auto it = meta.find("resolutions");
    if (it != meta.end()) {
      std::vector<int> trained;
      const std::string what = cfg.supernet_path + "'s metadata \"resolutions\"";
      for (const auto r : parse_sizes(it->second, what.c_str()))
        if (std::find(all.begin(), all.end(), static_cast<int>(r)) != all.end())
          trained.push_back(static_cast<int>(r));
      if (trained.empty())
        throw nat::config_error("nat search: " + cfg.supernet_path + " was warmed up at " +
                                it->second + " px, none of the search space's resolutions");
      const int top = *std::max_element(trained.begin(), trained.end());
      if (cfg.adaptation.resolutions.empty() && trained.size() < all.size()) {
        cfg.adaptation.resolutions = trained;
        if (!quiet)
          std::fprintf(stderr,
                       "nat search: the supernet was warmed up at %s px; adapting it only there\n",
                       it->second.c_str());
      }
      if (cfg.max_resolution == 0 && top < all.back()) {
        cfg.max_resolution = static_cast<std::size_t>(top);
        if (!quiet) std::fprintf(stderr, "nat search: searching resolutions up to %d px\n", top);
      }
    }
  }
  if (cfg.max_resolution > 0) {
    std::vector<int> kept;
    for (const int r : space.resolutions())
      if (r <= static_cast<int>(cfg.max_resolution)) kept.push_back(r);
    if (kept.empty())
      throw nat::config_error("nat search: max_resolution " + std::to_string(cfg.max_resolution) +
                              " lies below every resolution of the search space");
    auto v = space.to_json();
    v["resolutions"] = kept;
    space = nat::search::dynamic_mbv3_space_from_json(v);
  }
  const auto resolutions = space.resolutions();
  nat::transfer::supernet_task t(net, split.train, split.validation, tf, cfg);
  t.set_quiet(quiet);
  t.set_resolution_range(resolutions.front(), resolutions.back());

  // cpu_latency (nat_spec.md §6): the sum of per-layer latencies from a table of this CPU. The
  // run keeps its table in latency_table.json, so a resumed run scores subnets exactly as before.
  std::unique_ptr<nat::elastic::latency_table> lut;
  if (std::find(cfg.objectives.begin(), cfg.objectives.end(), "cpu_latency") !=
      cfg.objectives.end()) {
    const std::string own = run_dir + "/latency_table.json";
    if (nat::file_exists(own)) {
      lut = std::make_unique<nat::elastic::latency_table>(nat::elastic::latency_table::load(own));
    } else if (a.has("latency-table")) {
      lut = std::make_unique<nat::elastic::latency_table>(
          nat::elastic::latency_table::load(a.get("latency-table")));
    } else {
      if (!quiet)
        std::fprintf(stderr,
                     "nat search: measuring per-layer CPU latency (batch 1) for %zu "
                     "resolutions\n",
                     resolutions.size());
      lut = std::make_unique<nat::elastic::latency_table>(
          nat::elastic::build_measured_latency_table<float>(
              layout, std::vector<int>(resolutions.begin(), resolutions.end())));
    }
    lut->save(own);
    t.set_latency_table(*lut);
  }

  // Further datasets (err:<name>): same loader (default locations: --data is the primary
  // dataset's), each with its own supernet and its own validation split (at most a fifth of its
  // training images, for small sets such as digits). The supernet is models/<name>_<layout>
  // .safetensors when that exists, else a copy of the starting supernet warmed up on the dataset's
  // adaptation split like a missing primary one (NAT warms up one supernet per dataset, §5.3: a
  // copy alone would keep a classifier trained for the primary dataset's classes). A resumed run
  // replaces the weights with their adapted state from tasks/<name>/.
  std::vector<std::unique_ptr<extra_dataset>> extras;  // tasks keep references: stable addresses
  std::map<std::string, nat::transfer::task*> extra_tasks;
  for (const auto& o : cfg.objectives) {
    if (o.rfind("err:", 0) != 0) continue;
    auto x = std::make_unique<extra_dataset>();
    x->name = o.substr(4);
    x->data = load_task_data(x->name, "");
    x->tf = nat::data::nat_transforms(x->data.train, x->data.flip,
                                      static_cast<std::size_t>(layout.in_channels));
    const std::size_t n_val = std::min(cfg.evaluation.validation_images, x->data.train.size() / 5);
    x->split = nat::data::train_validation_split(x->data.train, n_val, cfg.seed,
                                                 /*stratified=*/true);
    const auto xlayout =
        nat::elastic::preset(layout_name, x->data.train.n_classes(), layout.in_channels);
    x->net = std::make_unique<nat::elastic::supernet>(xlayout, cfg.seed);
    const std::string trained = "models/" + x->name + "_" + layout_name + ".safetensors",
                      warmed = run_dir + "/warmup/tasks/" + nat::transfer::task_dir_name(x->name) +
                               "/supernet.safetensors";
    if (x->name.rfind("idx:", 0) != 0 && nat::file_exists(trained)) {
      nat::io::load_safetensors_into(trained, x->net->state_dict());
    } else if (nat::file_exists(warmed)) {
      nat::io::load_safetensors_into(warmed, x->net->state_dict());
    } else {
      if (copy_supernet(net, *x->net) && !quiet)
        std::fprintf(stderr,
                     "nat search: %s has %d classes, the supernet %d: its copy gets a new "
                     "classifier\n",
                     x->name.c_str(), xlayout.n_classes, layout.n_classes);
      if (!quiet)
        std::fprintf(stderr, "nat search: warming up a copy of the supernet on %s\n",
                     x->name.c_str());
      task_data adapt{x->name, x->split.train, x->data.test, x->data.flip};
      warm_up(*x->net, adapt, x->tf, warmup_settings(), warmed, layout_name);
    }
    x->task = std::make_unique<nat::transfer::supernet_task>(*x->net, x->split.train,
                                                             x->split.validation, x->tf, cfg);
    x->task->set_quiet(quiet);
    x->task->set_resolution_range(resolutions.front(), resolutions.back());
    if (lut) x->task->set_latency_table(*lut);
    extra_tasks[x->name] = x->task.get();
    extras.push_back(std::move(x));
  }
  nat::transfer::nat_callbacks cb;
  cb.quiet = quiet;
  cb.on_iteration = [&](std::size_t it, const nat::transfer::archive& arch,
                        const nat::transfer::nat_result& r) {
    if (quiet) return;
    std::fprintf(stderr, "iteration %zu: archive %zu subnets, hypervolume %.4f\n", it, arch.size(),
                 r.hypervolume.back());
  };
  nat::timer clock;
  const auto result = nat::transfer::run_nat(cfg, t, extra_tasks, space, run_dir, cb);

  // Reports: the non-dominated subnets with every objective, on validation and test (and on every
  // further dataset, with its own supernet: val_acc:<name>, test_acc:<name>).
  nat::transfer::archive arch(run_dir + "/archive.jsonl");
  std::vector<nat::transfer::report_row> front_rows, archive_rows;
  for (const auto& e : arch.entries()) archive_rows.push_back(nat::transfer::archive_report_row(e));
  nat::json::value test_cache;
  const std::string test_path = run_dir + "/test_accuracy.json";
  if (nat::file_exists(test_path)) test_cache = nat::json::parse(nat::read_file(test_path));
  for (auto id : result.front) {
    auto row = archive_rows[id];
    const std::string key = std::to_string(id);
    double test_acc;
    if (test_cache.contains(key)) {
      test_acc = test_cache.at(key).as_number();
    } else {
      test_acc = recalibrated_accuracy(net, arch[id].config, data, tf, data.test);
      test_cache[key] = test_acc;
      nat::write_file_atomic(test_path, test_cache.dump(1) + "\n");
    }
    row.values.emplace_back("test_acc", test_acc);
    for (const auto& x : extras) {
      const std::string xkey = key + ":" + x->name;
      if (!test_cache.contains(xkey)) {
        test_cache[xkey] =
            recalibrated_accuracy(*x->net, arch[id].config, x->data, x->tf, x->data.test);
        nat::write_file_atomic(test_path, test_cache.dump(1) + "\n");
      }
      row.values.emplace_back("test_acc:" + x->name, test_cache.at(xkey).as_number());
    }
    front_rows.push_back(row);
  }
  // Every front subnet, ready to use: static weights with BN statistics recalibrated for it (the
  // ones its test_acc was measured with), net.config, subnet.json (NAT encoding), info.json.
  // A further dataset's weights of the same architecture go to subnets/<id>/tasks/<name>/.
  for (const auto& r : front_rows) {
    const std::string dir = run_dir + "/subnets/" + std::to_string(r.id);
    std::map<std::string, double> metrics{{"val_acc", r.get("val_acc")},
                                          {"test_acc", r.get("test_acc")}};
    for (const auto& x : extras)
      for (const char* c : {"val_acc:", "test_acc:"}) metrics[c + x->name] = r.get(c + x->name);
    recalibrate_subnet(net, arch[r.id].config, data.train, tf);
    nat::transfer::export_subnet(dir, net, arch[r.id].config, metrics);
    for (const auto& x : extras) {
      recalibrate_subnet(*x->net, arch[r.id].config, x->data.train, x->tf);
      nat::transfer::export_subnet(
          dir + "/tasks/" + nat::transfer::task_dir_name(x->name), *x->net, arch[r.id].config,
          {{"val_acc", r.get("val_acc:" + x->name)}, {"test_acc", r.get("test_acc:" + x->name)}});
    }
  }
  std::sort(front_rows.begin(), front_rows.end(),
            [](const auto& x, const auto& y) { return x.get("macs") < y.get("macs"); });
  std::vector<std::string> columns;
  for (std::size_t j = 1; j < cfg.objectives.size(); ++j)
    if (!nat::transfer::is_error_objective(cfg.objectives[j])) columns.push_back(cfg.objectives[j]);
  for (const char* c : {"macs", "params"})
    if (std::find(columns.begin(), columns.end(), c) == columns.end()) {
      for (auto& r : front_rows)
        r.values.emplace_back(c, std::string(c) == "macs" ? t.cost("macs", arch[r.id].config)
                                                          : t.cost("params", arch[r.id].config));
      columns.push_back(c);
    }
  columns.push_back("val_acc");
  columns.push_back("test_acc");
  for (const auto& x : extras) {
    columns.push_back("val_acc:" + x->name);
    columns.push_back("test_acc:" + x->name);
  }
  nat::transfer::write_report_csv(run_dir + "/front.csv", front_rows, columns);

  // High trade-off picks (nat_spec.md §4.6) on (error, costs) of the front.
  // The report column holding objective `o` (errors as accuracies).
  auto column_of = [](const std::string& o) {
    return nat::transfer::is_error_objective(o)
               ? "val_acc" + (o == "err" ? std::string() : ":" + o.substr(4))
               : o;
  };
  nat::points F;
  for (const auto& r : front_rows) {
    std::vector<double> f;
    for (const auto& o : cfg.objectives) {
      const double v = r.get(column_of(o));
      f.push_back(nat::transfer::is_error_objective(o) ? 100.0 - v : v);
    }
    F.push_back(f);
  }
  std::vector<std::size_t> picks;
  if (F.size() >= 3)
    for (auto i : nat::metrics::high_tradeoff_points(F, std::min<std::size_t>(4, F.size())))
      picks.push_back(front_rows[i].id);
  nat::json::value report;
  report["run_dir"] = run_dir;
  report["front"] = nat::transfer::report_json(front_rows);
  report["high_tradeoff"] = picks;
  report["hypervolume"] = result.hypervolume;
  report["seconds"] = clock.seconds();
  nat::write_file_atomic(run_dir + "/front.json", report.dump(1) + "\n");

  nat::transfer::front_plot plot;
  plot.title = "NAT on " + cfg.dataset + " (" + layout_name + ")";
  plot.archive = archive_rows;
  plot.front = front_rows;
  plot.y_column = "val_acc";
  plot.y_label = "validation top-1 (%)";
  if (cfg.objectives.size() > 2) plot.colour_column = column_of(cfg.objectives[2]);
  plot.hypervolume = result.hypervolume;
  nat::write_file_atomic(run_dir + "/front.svg", nat::transfer::render_front_svg(plot));

  if (!quiet) {
    std::fprintf(stderr, "front (%zu subnets):\n", front_rows.size());
    for (const auto& r : front_rows) {
      std::fprintf(stderr, "  id %-4zu %s  %7.2f M MACs  val %.2f%%  test %.2f%%", r.id,
                   r.encoding.c_str(), r.get("macs") / 1e6, r.get("val_acc"), r.get("test_acc"));
      for (const auto& x : extras)
        std::fprintf(stderr, "  %s val %.2f%% test %.2f%%", x->name.c_str(),
                     r.get("val_acc:" + x->name), r.get("test_acc:" + x->name));
      std::fprintf(stderr, "\n");
    }
  }
  if (a.flag("json")) std::printf("%s\n", report.dump().c_str());
  return 0;
}

}  // namespace nat_cli
