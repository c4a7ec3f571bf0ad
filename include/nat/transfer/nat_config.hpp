#pragma once
/// \file Every constant of the NAT loop (nat_spec.md §2–§5) in one validated struct, with the
/// paper's defaults, a scaled-down `quick` preset, and a JSON form written into each run directory.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/json.hpp"

namespace nat::transfer {

/// True for the objectives the surrogates predict: "err" and "err:<task>".
inline bool is_error_objective(const std::string& objective) {
  return objective == "err" || objective.rfind("err:", 0) == 0;
}

/// The task an error objective is measured on: "" for "err" (the primary task), <task> for
/// "err:<task>".
inline std::string error_objective_task(const std::string& objective) {
  return objective == "err" ? std::string() : objective.substr(4);
}

/// Supernet adaptation between search iterations (nat_spec.md §5.2).
struct adaptation_config {
  std::size_t epochs_per_iteration = 5;  ///< supernet epochs after each iteration
  std::size_t batch_size = 96;
  std::size_t subnets_per_step = 4;  ///< sampled subnets whose gradients are summed per step
  double lr = 2.5e-3;                ///< peak learning rate of the one cosine schedule
  double momentum = 0.9;
  double weight_decay = 3e-4;
  double warmup_epochs = 5;  ///< linear warm-up from warmup_lr at the start of the whole run
  double warmup_lr = 1e-4;
  double grad_clip = 5.0;  ///< global gradient-norm clip per sampled subnet
  double kd_ratio = 1.0;   ///< loss = (kd·CE_soft + CE)·2/(kd+1)
  double label_smoothing = 0.0;
  std::size_t top_n = 150;  ///< archive members whose encodings define the sampling distribution
  double distribution_smoothing = 0.0;  ///< pseudo-count per category (0 = empirical frequencies)
  std::size_t max_steps_per_epoch = 0;  ///< cap on the steps of an adaptation epoch (0 = whole)
  /// Per-batch resolutions of adaptation, within the search space's (empty = all of them). The
  /// paper adapts over the range its supernet was warmed up on; for a supernet warmed up on fewer
  /// sizes than the space holds, batches at the others cost more and trained no better subnet in
  /// docs/RESULTS.md's measurement.
  std::vector<int> resolutions;
  /// Subnets 0 and 1 of every step are the supernet's largest and smallest, the rest come from
  /// the archive distribution (the warm-up's sandwich rule; false = nat_spec.md §5.2, all four
  /// from the distribution). Sharing weights, the subnets the distribution rarely draws drift
  /// while the others train; the sandwich trains the two ends of every front at every step (it
  /// did not keep the quick preset from lowering a well-trained smallest subnet: docs/RESULTS.md).
  bool sandwich = false;
};

/// The evolutionary search on the surrogate (nat_spec.md §4.1–4.2).
struct search_config {
  std::size_t pop_size = 100;
  std::size_t n_gen = 20;
  double crossover_prob = 0.9;
  double mutation_eta = 1.0;
  std::size_t n_ref_dirs = 100;       ///< Riesz s-energy directions for NSGA-III (> 2 objectives)
  std::uint64_t ref_dirs_seed = 42;   ///< as in the reference code
  std::size_t subset_pop_size = 500;  ///< candidate subset-selection GA (§4.4)
  std::size_t subset_n_gen = 200;
};

/// High-fidelity evaluation of one subnet (nat_spec.md §5.4).
struct evaluation_config {
  std::size_t bn_calibration_images = 960;  ///< fixed-seed training subset for BN recalibration
  std::size_t bn_calibration_batch = 96;
  std::size_t validation_images = 5000;  ///< search validation split held out of the training set
  std::size_t eval_batch = 200;
};

/// The whole NAT run.
struct nat_config {
  std::string dataset = "fashion-mnist";
  std::string data_dir;  ///< empty: the dataset's default location
  std::string supernet_preset = "mbv3_small";
  std::string supernet_path;  ///< empty: warm one up first
  /// "err" (the primary task's error) first; then any of macs, params, cpu_latency and
  /// err:<task> (top-1 error on a further task, scored by that task's own supernet).
  std::vector<std::string> objectives = {"err", "macs"};
  std::string algorithm = "nat";  ///< "nat" or "random" (same supernet and evaluation budget)
  std::string surrogate = "as";   ///< rbf, rbf_ensemble, gp, cart, cart_ensemble, mlp, as
  std::size_t n_doe = 100;        ///< initial archive: random + smallest + largest
  std::size_t n_iterations = 30;
  std::size_t n_candidates = 8;    ///< subnets evaluated per iteration
  bool reevaluate_archive = true;  ///< re-evaluate every archive member after each adaptation
  /// Search only the space's resolutions up to this one (0 = all of them): a supernet warmed up
  /// up to 40 px has no trained weights for the larger sizes a space may list. An upper bound
  /// keeps the space's first resolutions, so its digit encodings keep their meaning.
  std::size_t max_resolution = 0;
  std::uint64_t seed = 0;
  adaptation_config adaptation;
  search_config search;
  evaluation_config evaluation;

  /// Throws config_error naming the first field that is out of range.
  void validate() const {
    auto fail = [](const std::string& m) { throw config_error("nat_config: " + m); };
    if (objectives.empty() || objectives.front() != "err")
      fail("objectives must start with \"err\" (the surrogate-predicted error)");
    if (objectives.size() > 12) fail("at most 12 objectives are supported");
    for (std::size_t i = 1; i < objectives.size(); ++i) {
      const auto& o = objectives[i];
      if (o != "macs" && o != "params" && o != "cpu_latency" && o.rfind("err:", 0) != 0)
        fail("unknown objective \"" + o +
             "\" (expected macs, params, cpu_latency or err:<dataset>)");
      if (o == "err:") fail("objective \"err:\" names no dataset (expected err:<dataset>)");
      if (o == "err:" + dataset)
        fail("objective \"" + o +
             "\" is the error on the primary dataset, which \"err\" already is");
      for (std::size_t j = 0; j < i; ++j)
        if (objectives[j] == o) fail("objective \"" + o + "\" is listed twice");
    }
    if (algorithm != "nat" && algorithm != "random")
      fail("algorithm must be \"nat\" or \"random\", got \"" + algorithm + "\"");
    static const char* surrogates[] = {"rbf",           "rbf_ensemble", "gp", "cart",
                                       "cart_ensemble", "mlp",          "as"};
    bool ok = false;
    for (const char* s : surrogates) ok = ok || surrogate == s;
    if (!ok) fail("unknown surrogate \"" + surrogate + "\"");
    if (n_doe < 3) fail("n_doe must be at least 3 (smallest, largest and one random subnet)");
    if (n_candidates == 0) fail("n_candidates must be positive");
    if (search.pop_size < 4 || search.pop_size % 2) fail("search.pop_size must be even and >= 4");
    if (search.n_gen == 0) fail("search.n_gen must be positive");
    if (!(search.crossover_prob >= 0 && search.crossover_prob <= 1))
      fail("search.crossover_prob must lie in [0, 1]");
    if (!(search.mutation_eta > 0)) fail("search.mutation_eta must be positive");
    if (search.pop_size < n_candidates) fail("search.pop_size must be >= n_candidates");
    if (adaptation.batch_size == 0 || adaptation.subnets_per_step == 0)
      fail("adaptation.batch_size and subnets_per_step must be positive");
    if (!(adaptation.lr > 0) || !(adaptation.momentum >= 0 && adaptation.momentum < 1))
      fail("adaptation.lr must be positive and momentum in [0, 1)");
    if (!(adaptation.weight_decay >= 0) || !(adaptation.grad_clip > 0))
      fail("adaptation.weight_decay must be >= 0 and grad_clip > 0");
    if (!(adaptation.kd_ratio >= 0)) fail("adaptation.kd_ratio must be >= 0");
    if (!(adaptation.label_smoothing >= 0 && adaptation.label_smoothing < 1))
      fail("adaptation.label_smoothing must lie in [0, 1)");
    if (adaptation.top_n < 2) fail("adaptation.top_n must be at least 2");
    if (adaptation.sandwich && adaptation.subnets_per_step < 3)
      fail(
          "adaptation.sandwich needs subnets_per_step >= 3 (largest, smallest and at least one "
          "from the archive distribution)");
    for (int r : adaptation.resolutions)
      if (r <= 0) fail("adaptation.resolutions must be positive, got " + std::to_string(r));
    if (evaluation.bn_calibration_images == 0 || evaluation.bn_calibration_batch == 0)
      fail("evaluation.bn_calibration_images and _batch must be positive");
    if (evaluation.validation_images == 0) fail("evaluation.validation_images must be positive");
  }
};

/// The published settings (nat_spec.md §2–§5).
inline nat_config paper_preset() { return nat_config{}; }

/// A scaled-down run for two CPU cores (about 20 minutes on Fashion-MNIST with `mbv3_small`).
inline nat_config quick_preset() {
  // Sized so that warm-up + search of `mbv3_small` on Fashion-MNIST take about 20 minutes on two
  // cores: fewer, shorter iterations and smaller evaluation sets; the algorithm is unchanged.
  nat_config c;
  c.n_doe = 24;
  c.n_iterations = 3;
  c.n_candidates = 6;
  c.search.pop_size = 40;
  c.search.n_gen = 20;
  c.search.subset_pop_size = 100;
  c.search.subset_n_gen = 60;
  c.adaptation.epochs_per_iteration = 1;
  c.adaptation.max_steps_per_epoch = 25;
  c.adaptation.warmup_epochs = 0;
  c.adaptation.top_n = 20;
  c.adaptation.batch_size = 128;
  c.adaptation.lr = 2e-3;
  c.evaluation.bn_calibration_images = 256;
  c.evaluation.bn_calibration_batch = 128;
  c.evaluation.validation_images = 1000;
  c.evaluation.eval_batch = 250;
  return c;
}

/// A preset by name: "paper" or "quick".
inline nat_config preset(const std::string& name) {
  if (name == "paper") return paper_preset();
  if (name == "quick") return quick_preset();
  throw config_error("nat_config: unknown preset \"" + name + "\" (expected paper or quick)");
}

/// JSON form (all fields), as written to `config.json` of a run.
inline json::value to_json(const nat_config& c) {
  json::value v;
  v["dataset"] = c.dataset;
  v["data_dir"] = c.data_dir;
  v["supernet_preset"] = c.supernet_preset;
  v["supernet_path"] = c.supernet_path;
  v["objectives"] = c.objectives;
  v["algorithm"] = c.algorithm;
  v["surrogate"] = c.surrogate;
  v["n_doe"] = c.n_doe;
  v["n_iterations"] = c.n_iterations;
  v["n_candidates"] = c.n_candidates;
  v["reevaluate_archive"] = c.reevaluate_archive;
  v["max_resolution"] = c.max_resolution;
  v["seed"] = static_cast<double>(c.seed);
  auto& a = v["adaptation"];
  a["epochs_per_iteration"] = c.adaptation.epochs_per_iteration;
  a["batch_size"] = c.adaptation.batch_size;
  a["subnets_per_step"] = c.adaptation.subnets_per_step;
  a["lr"] = c.adaptation.lr;
  a["momentum"] = c.adaptation.momentum;
  a["weight_decay"] = c.adaptation.weight_decay;
  a["warmup_epochs"] = c.adaptation.warmup_epochs;
  a["warmup_lr"] = c.adaptation.warmup_lr;
  a["grad_clip"] = c.adaptation.grad_clip;
  a["kd_ratio"] = c.adaptation.kd_ratio;
  a["label_smoothing"] = c.adaptation.label_smoothing;
  a["top_n"] = c.adaptation.top_n;
  a["distribution_smoothing"] = c.adaptation.distribution_smoothing;
  a["max_steps_per_epoch"] = c.adaptation.max_steps_per_epoch;
  a["resolutions"] = c.adaptation.resolutions;
  a["sandwich"] = c.adaptation.sandwich;
  auto& s = v["search"];
  s["pop_size"] = c.search.pop_size;
  s["n_gen"] = c.search.n_gen;
  s["crossover_prob"] = c.search.crossover_prob;
  s["mutation_eta"] = c.search.mutation_eta;
  s["n_ref_dirs"] = c.search.n_ref_dirs;
  s["ref_dirs_seed"] = static_cast<double>(c.search.ref_dirs_seed);
  s["subset_pop_size"] = c.search.subset_pop_size;
  s["subset_n_gen"] = c.search.subset_n_gen;
  auto& e = v["evaluation"];
  e["bn_calibration_images"] = c.evaluation.bn_calibration_images;
  e["bn_calibration_batch"] = c.evaluation.bn_calibration_batch;
  e["validation_images"] = c.evaluation.validation_images;
  e["eval_batch"] = c.evaluation.eval_batch;
  return v;
}

/// Reads the JSON of to_json; keys that are absent keep their defaults, unknown keys are an error
/// (a misspelt setting must not silently fall back to a default). The result is validated.
inline nat_config nat_config_from_json(const json::value& v, nat_config c = {}) {
  auto check_keys = [](const json::value& obj, std::initializer_list<const char*> known,
                       const std::string& where) {
    for (const auto& kv : obj.as_object()) {
      bool ok = false;
      for (const char* k : known) ok = ok || kv.first == k;
      if (!ok) throw config_error("nat_config: unknown key \"" + where + kv.first + "\"");
    }
  };
  auto size = [](const json::value& x) {
    const long long i = x.as_int();
    if (i < 0) throw config_error("nat_config: expected a non-negative integer, got " + x.dump());
    return static_cast<std::size_t>(i);
  };
  check_keys(v,
             {"dataset", "data_dir", "supernet_preset", "supernet_path", "objectives", "algorithm",
              "surrogate", "n_doe", "n_iterations", "n_candidates", "reevaluate_archive", "seed",
              "max_resolution", "adaptation", "search", "evaluation"},
             "");
  if (v.contains("dataset")) c.dataset = v.at("dataset").as_string();
  if (v.contains("data_dir")) c.data_dir = v.at("data_dir").as_string();
  if (v.contains("supernet_preset")) c.supernet_preset = v.at("supernet_preset").as_string();
  if (v.contains("supernet_path")) c.supernet_path = v.at("supernet_path").as_string();
  if (v.contains("objectives")) {
    c.objectives.clear();
    for (const auto& o : v.at("objectives").as_array()) c.objectives.push_back(o.as_string());
  }
  if (v.contains("algorithm")) c.algorithm = v.at("algorithm").as_string();
  if (v.contains("surrogate")) c.surrogate = v.at("surrogate").as_string();
  if (v.contains("n_doe")) c.n_doe = size(v.at("n_doe"));
  if (v.contains("n_iterations")) c.n_iterations = size(v.at("n_iterations"));
  if (v.contains("n_candidates")) c.n_candidates = size(v.at("n_candidates"));
  if (v.contains("reevaluate_archive")) c.reevaluate_archive = v.at("reevaluate_archive").as_bool();
  if (v.contains("seed")) c.seed = static_cast<std::uint64_t>(size(v.at("seed")));
  if (v.contains("max_resolution")) c.max_resolution = size(v.at("max_resolution"));
  if (v.contains("adaptation")) {
    const auto& a = v.at("adaptation");
    check_keys(
        a,
        {"epochs_per_iteration", "batch_size", "subnets_per_step", "lr", "momentum", "weight_decay",
         "warmup_epochs", "warmup_lr", "grad_clip", "kd_ratio", "label_smoothing", "top_n",
         "distribution_smoothing", "max_steps_per_epoch", "resolutions", "sandwich"},
        "adaptation.");
    auto& d = c.adaptation;
    if (a.contains("epochs_per_iteration"))
      d.epochs_per_iteration = size(a.at("epochs_per_iteration"));
    if (a.contains("batch_size")) d.batch_size = size(a.at("batch_size"));
    if (a.contains("subnets_per_step")) d.subnets_per_step = size(a.at("subnets_per_step"));
    if (a.contains("lr")) d.lr = a.at("lr").as_number();
    if (a.contains("momentum")) d.momentum = a.at("momentum").as_number();
    if (a.contains("weight_decay")) d.weight_decay = a.at("weight_decay").as_number();
    if (a.contains("warmup_epochs")) d.warmup_epochs = a.at("warmup_epochs").as_number();
    if (a.contains("warmup_lr")) d.warmup_lr = a.at("warmup_lr").as_number();
    if (a.contains("grad_clip")) d.grad_clip = a.at("grad_clip").as_number();
    if (a.contains("kd_ratio")) d.kd_ratio = a.at("kd_ratio").as_number();
    if (a.contains("label_smoothing")) d.label_smoothing = a.at("label_smoothing").as_number();
    if (a.contains("top_n")) d.top_n = size(a.at("top_n"));
    if (a.contains("distribution_smoothing"))
      d.distribution_smoothing = a.at("distribution_smoothing").as_number();
    if (a.contains("max_steps_per_epoch"))
      d.max_steps_per_epoch = size(a.at("max_steps_per_epoch"));
    if (a.contains("sandwich")) d.sandwich = a.at("sandwich").as_bool();
    if (a.contains("resolutions")) {
      d.resolutions.clear();
      for (const auto& r : a.at("resolutions").as_array())
        d.resolutions.push_back(static_cast<int>(size(r)));
    }
  }
  if (v.contains("search")) {
    const auto& s = v.at("search");
    check_keys(s,
               {"pop_size", "n_gen", "crossover_prob", "mutation_eta", "n_ref_dirs",
                "ref_dirs_seed", "subset_pop_size", "subset_n_gen"},
               "search.");
    auto& d = c.search;
    if (s.contains("pop_size")) d.pop_size = size(s.at("pop_size"));
    if (s.contains("n_gen")) d.n_gen = size(s.at("n_gen"));
    if (s.contains("crossover_prob")) d.crossover_prob = s.at("crossover_prob").as_number();
    if (s.contains("mutation_eta")) d.mutation_eta = s.at("mutation_eta").as_number();
    if (s.contains("n_ref_dirs")) d.n_ref_dirs = size(s.at("n_ref_dirs"));
    if (s.contains("ref_dirs_seed")) d.ref_dirs_seed = size(s.at("ref_dirs_seed"));
    if (s.contains("subset_pop_size")) d.subset_pop_size = size(s.at("subset_pop_size"));
    if (s.contains("subset_n_gen")) d.subset_n_gen = size(s.at("subset_n_gen"));
  }
  if (v.contains("evaluation")) {
    const auto& e = v.at("evaluation");
    check_keys(e,
               {"bn_calibration_images", "bn_calibration_batch", "validation_images", "eval_batch"},
               "evaluation.");
    auto& d = c.evaluation;
    if (e.contains("bn_calibration_images"))
      d.bn_calibration_images = size(e.at("bn_calibration_images"));
    if (e.contains("bn_calibration_batch"))
      d.bn_calibration_batch = size(e.at("bn_calibration_batch"));
    if (e.contains("validation_images")) d.validation_images = size(e.at("validation_images"));
    if (e.contains("eval_batch")) d.eval_batch = size(e.at("eval_batch"));
  }
  c.validate();
  return c;
}

}  // namespace nat::transfer
