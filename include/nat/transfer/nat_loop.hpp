#pragma once
/// \file The NAT loop (nat_spec.md §2): archive → surrogate → many-objective search → candidate
/// subset → high-fidelity evaluation → supernet adaptation → archive re-evaluation, resumable after
/// a kill.
///
/// Accuracy on several datasets (nat_spec.md §4.3, the 12-objective runs): objectives
/// "err:<task>" are scored by further tasks, each with its own weights; the architecture is shared.
///
/// The loop is independent of how subnets are evaluated: a `task` (the supernet and its data, or
/// anything else that scores subnet configs) does the expensive work. Its state lives in one run
/// directory: `config.json`, `space.json`, `archive.jsonl` (append-only), `state.json` (phase of
/// the current iteration, written atomically) and whatever the tasks save (`supernet/` for the
/// primary task, `tasks/<name>/` for each further one). Every phase either
/// finishes and records itself or is redone on resume; finished evaluations are never lost or
/// repeated.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/progress.hpp"
#include "nat/core/rng.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/evo/crowding_distance.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/evo/nsga2.hpp"
#include "nat/evo/nsga3.hpp"
#include "nat/evo/reference_directions.hpp"
#include "nat/metrics/correlation.hpp"
#include "nat/metrics/hypervolume.hpp"
#include "nat/search/dynamic_mbv3_space.hpp"
#include "nat/surrogate/factory.hpp"
#include "nat/transfer/archive.hpp"
#include "nat/transfer/archive_distribution.hpp"
#include "nat/transfer/nat_config.hpp"
#include "nat/transfer/subset_selection.hpp"

namespace nat::transfer {

/// What the loop needs from the task: scores, costs, and adaptation of the shared weights.
class task {
 public:
  virtual ~task() = default;
  /// Top-1 accuracy (%) of subnet `c` on the search validation split.
  virtual double evaluate(const subnet_config& c) = 0;
  /// A cheap objective of `c` by name ("macs", "params", "cpu_latency"); computed exactly. In a
  /// multi-dataset run only the primary task is asked.
  virtual double cost(const std::string& objective, const subnet_config& c) = 0;
  /// Trains the shared weights for one iteration, drawing subnets from `sample`.
  virtual void adapt(const std::function<subnet_config(rng&)>& sample, std::size_t iteration,
                     std::uint64_t seed) = 0;
  /// Saves the task's mutable state (e.g. the supernet) into `dir`, atomically.
  virtual void save_state(const std::string& dir) = 0;
  /// Restores what save_state wrote; false when `dir` holds no state yet.
  virtual bool load_state(const std::string& dir) = 0;
};

/// Surrogate quality on one iteration's newly evaluated candidates (one record per accuracy
/// objective and iteration).
struct surrogate_record {
  std::size_t iteration = 0;
  std::string objective = "err";  ///< the accuracy objective it predicts ("err" or "err:<task>")
  std::string model;
  double kendall_tau = std::nan("");
  double spearman = std::nan("");
  double rmse = std::nan("");
};

/// What a run produced (also on disk in the run directory).
struct nat_result {
  std::vector<std::size_t> front;  ///< archive ids of the non-dominated subnets
  /// Normalised HV of the archive after each iteration, over all objectives (a Monte Carlo estimate
  /// beyond detail::exact_hv_max_objectives).
  std::vector<double> hypervolume;
  std::vector<surrogate_record> surrogate;
  std::vector<double> ref_point;  ///< fixed from the initial archive (nat_spec.md §4.5)
};

/// Observer hooks (all optional).
struct nat_callbacks {
  /// Called after every finished iteration (0 = initial archive) with the archive so far.
  std::function<void(std::size_t iteration, const archive&, const nat_result&)> on_iteration;
  /// Silences progress output on stderr.
  bool quiet = false;
};

/// Directory name (under `tasks/` of a run directory) of a further task's state: its name with
/// every character outside [A-Za-z0-9._-] replaced by '_' (names such as idx:/data/x carry
/// slashes).
inline std::string task_dir_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.find_first_not_of('.') == std::string::npos) out = "_" + out;  // never "." or ".."
  return out;
}

namespace detail {

/// Objective rows (in the order of `objectives`: errors and costs) of archive entries.
inline points objective_rows(const archive& a, const std::vector<std::string>& objectives) {
  points rows;
  for (const auto& e : a.entries()) {
    std::vector<double> r;
    for (const auto& o : objectives) r.push_back(e.objective(o));
    rows.push_back(std::move(r));
  }
  return rows;
}

/// Objective counts up to which the logged hypervolume is exact. WFG's cost grows steeply with the
/// dimension: for 340 mutually non-dominated points (a paper-sized archive, worst case) it takes
/// 0.5 s at 7 objectives, 2.8 s at 8, and minutes at 12 (80 points already take 4.5 s).
inline constexpr std::size_t exact_hv_max_objectives = 8;

/// Normalised HV of `rows` against 1.01·ref (nat_spec.md §4.5: normalised by Π|ref|); beyond
/// exact_hv_max_objectives a seeded Monte Carlo estimate (10⁵ samples, standard error below 0.2%
/// of the box), as HV is only logged.
inline double normalised_hv(const points& rows, const std::vector<double>& ref) {
  std::vector<double> r(ref.size());
  double vol = 1.0;
  for (std::size_t j = 0; j < ref.size(); ++j) {
    r[j] = 1.01 * ref[j];
    vol *= std::fabs(r[j]) > 0 ? std::fabs(r[j]) : 1.0;
  }
  points inside;
  for (const auto& row : rows) {
    bool ok = true;
    for (std::size_t j = 0; j < r.size(); ++j) ok = ok && row[j] < r[j];
    if (ok) inside.push_back(row);
  }
  if (inside.empty()) return 0.0;
  if (r.size() > exact_hv_max_objectives)
    return metrics::hypervolume_monte_carlo(inside, r, 100000, 0x6876ULL).value / vol;
  return metrics::hypervolume(inside, r) / vol;
}

/// The best `n` rows by non-dominated rank, ties broken by crowding distance (NSGA-II survival).
inline std::vector<std::size_t> survivors(const points& rows, std::size_t n) {
  std::vector<std::size_t> out;
  if (rows.empty()) return out;
  for (const auto& front : evo::non_dominated_sort(rows)) {
    if (out.size() + front.size() <= n) {
      out.insert(out.end(), front.begin(), front.end());
      continue;
    }
    points sub;
    for (auto i : front) sub.push_back(rows[i]);
    const auto cd = evo::crowding_distance(sub);
    std::vector<std::size_t> order(front.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return cd[a] > cd[b]; });
    for (std::size_t i = 0; out.size() < n; ++i) out.push_back(front[order[i]]);
    break;
  }
  return out;
}

}  // namespace detail

/// Runs (or resumes) NAT in `run_dir` with `cfg` over `space`, scoring subnets with `primary` (the
/// "err" objective, cfg.dataset) and with `extra[name]` for every "err:<name>" objective (accuracy
/// on several datasets, nat_spec.md §4.3: the architecture is shared, each task keeps its own
/// weights). Every evaluated subnet is scored on every task; each accuracy objective has its own
/// surrogate; each task's weights are adapted and saved in their own directory. Costs come from
/// `primary`. A run directory that already holds a config must have been started with the same
/// settings. config_error when an err:<name> objective has no task or a task has no objective.
inline nat_result run_nat(const nat_config& cfg, task& primary,
                          const std::map<std::string, task*>& extra,
                          const search::dynamic_mbv3_space& space, const std::string& run_dir,
                          const nat_callbacks& cb = {}) {
  cfg.validate();
  const auto& objectives = cfg.objectives;

  // The tasks in objective order: [0] is the primary task ("err"), then one per err:<name>.
  struct task_slot {
    std::string name;       ///< "" for the primary task
    std::string objective;  ///< "err" or "err:<name>"
    task* t = nullptr;
    std::string state_dir;
    std::size_t column = 0;  ///< index of its objective in cfg.objectives
  };
  std::vector<task_slot> tasks{{"", "err", &primary, run_dir + "/supernet", 0}};
  std::vector<std::size_t> cheap;  // columns of the cheap objectives
  std::set<std::string> dir_names;
  for (std::size_t j = 1; j < objectives.size(); ++j) {
    if (!is_error_objective(objectives[j])) {
      cheap.push_back(j);
      continue;
    }
    const std::string name = error_objective_task(objectives[j]);
    const auto it = extra.find(name);
    if (it == extra.end()) {
      std::string known;
      for (const auto& kv : extra) known += (known.empty() ? "" : ", ") + kv.first;
      throw config_error("run_nat: objective \"" + objectives[j] + "\" needs a task named \"" +
                         name + "\" among the extra tasks (given: " +
                         (known.empty() ? std::string("none") : known) + ")");
    }
    if (!it->second) throw config_error("run_nat: the task for \"" + name + "\" is null");
    const std::string dir = task_dir_name(name);
    if (!dir_names.insert(dir).second)
      throw config_error("run_nat: tasks \"" + name +
                         "\" and another one would share the state directory tasks/" + dir +
                         "; rename one");
    tasks.push_back({name, objectives[j], it->second, run_dir + "/tasks/" + dir, j});
  }
  for (const auto& kv : extra)
    if (std::find(objectives.begin(), objectives.end(), "err:" + kv.first) == objectives.end())
      throw config_error("run_nat: task \"" + kv.first + "\" is given but no objective \"err:" +
                         kv.first + "\" uses it (add it to the objectives or drop the task)");

  make_dirs(run_dir);
  const std::string config_path = run_dir + "/config.json", space_path = run_dir + "/space.json",
                    state_path = run_dir + "/state.json";

  // A resumed run must continue with the settings it started with.
  const std::string cfg_text = to_json(cfg).dump(2) + "\n";
  const std::string space_text = space.to_json().dump(2) + "\n";
  if (file_exists(config_path)) {
    if (to_json(nat_config_from_json(json::parse(read_file(config_path)))) != to_json(cfg))
      throw config_error(
          "run_nat: " + config_path +
          " holds different settings; resume with the stored config or use a new run "
          "directory");
  } else {
    write_file_atomic(config_path, cfg_text);
  }
  if (file_exists(space_path)) {
    if (json::parse(read_file(space_path)) != space.to_json())
      throw config_error("run_nat: " + space_path + " describes a different search space");
  } else {
    write_file_atomic(space_path, space_text);
  }

  archive arch(run_dir + "/archive.jsonl");
  nat_result res;
  json::value state;
  std::size_t done_iter = 0;
  std::string phase = "start";
  if (file_exists(state_path)) {
    try {
      state = json::parse(read_file(state_path));
      done_iter = static_cast<std::size_t>(state.at("iteration").as_int());
      phase = state.at("phase").as_string();
      for (const auto& x : state.at("hypervolume").as_array())
        res.hypervolume.push_back(x.as_number());
      for (const auto& x : state.at("ref_point").as_array()) res.ref_point.push_back(x.as_number());
      for (const auto& s : state.at("surrogate").as_array()) {
        surrogate_record r;
        r.iteration = static_cast<std::size_t>(s.at("iteration").as_int());
        if (s.contains("objective")) r.objective = s.at("objective").as_string();
        r.model = s.at("model").as_string();
        auto num = [&](const char* k) {
          return s.at(k).is_null() ? std::nan("") : s.at(k).as_number();
        };
        r.kendall_tau = num("kendall_tau");
        r.spearman = num("spearman");
        r.rmse = num("rmse");
        res.surrogate.push_back(r);
      }
    } catch (const error& e) {
      throw io_error("run_nat: " + state_path + " is corrupt: " + e.what());
    }
    for (const auto& ts : tasks)
      if (file_exists(ts.state_dir) && !ts.t->load_state(ts.state_dir))
        throw io_error("run_nat: the task " +
                       (ts.name.empty() ? std::string("(primary)") : "\"" + ts.name + "\"") +
                       " could not restore its state from " + ts.state_dir);
  }
  auto save_state = [&](std::size_t iteration, const std::string& ph, const json::value& extra) {
    json::value s;
    s["iteration"] = iteration;
    s["phase"] = ph;
    s["hypervolume"] = res.hypervolume;
    s["ref_point"] = res.ref_point;
    json::array sur;
    for (const auto& r : res.surrogate) {
      json::value v;
      v["iteration"] = r.iteration;
      if (r.objective != "err") v["objective"] = r.objective;
      v["model"] = r.model;
      v["kendall_tau"] = r.kendall_tau;
      v["spearman"] = r.spearman;
      v["rmse"] = r.rmse;
      sur.push_back(v);
    }
    s["surrogate"] = json::value(sur);
    s["extra"] = extra;
    write_file_atomic(state_path, s.dump(1) + "\n");
    state = s;
  };

  auto costs_of = [&](const subnet_config& c) {
    std::vector<std::pair<std::string, double>> costs;
    for (auto j : cheap) costs.emplace_back(objectives[j], primary.cost(objectives[j], c));
    return costs;
  };
  auto score = [&](const task_slot& ts, const subnet_config& c) {
    const double acc = ts.t->evaluate(c);
    if (!std::isfinite(acc))
      throw error("run_nat: the task " +
                  (ts.name.empty() ? std::string() : "\"" + ts.name + "\" ") +
                  "returned a non-finite accuracy for " + to_json(c).dump());
    return acc;
  };
  // Every further task's accuracy of `c`, in task order.
  auto extra_accs = [&](const subnet_config& c) {
    std::vector<std::pair<std::string, double>> accs;
    for (std::size_t k = 1; k < tasks.size(); ++k)
      accs.emplace_back(tasks[k].name, score(tasks[k], c));
    return accs;
  };
  auto evaluate_into_archive = [&](const std::vector<search::genome>& genomes,
                                   std::size_t iteration, const std::vector<double>& predicted,
                                   const char* label) {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < genomes.size(); ++i)
      if (arch.find(space.decode(genomes[i])) == arch.size()) todo.push_back(i);
    progress_bar bar(label, todo.size(), cb.quiet);
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const auto& g = genomes[todo[k]];
      archive_entry e;
      e.iteration = iteration;
      e.genome = space.repair(g);
      e.config = space.decode(e.genome);
      try {
        e.encoding = space.format_encoding(e.genome);
      } catch (const error&) {
        e.encoding.clear();  // spaces with more than 10 choices per gene have no digit encoding
      }
      e.val_acc = score(tasks[0], e.config);
      e.task_accs = extra_accs(e.config);
      if (!predicted.empty()) e.predicted_err = predicted[todo[k]];
      e.costs = costs_of(e.config);
      arch.add(std::move(e));
      bar.update(k + 1, "last top-1 " + std::to_string(arch.entries().back().val_acc));
    }
    bar.finish();
  };

  // Iteration 0: the initial archive — smallest, largest and uniform random subnets (nat_spec.md
  // §2).
  if (done_iter == 0 && phase != "done") {
    rng gen(cfg.seed);
    std::vector<search::genome> doe;
    std::set<std::vector<int>> seen;
    auto push = [&](search::genome g) {
      g = space.repair(std::move(g));
      if (seen.insert(g).second) doe.push_back(std::move(g));
    };
    push(space.lower());
    push(space.upper());
    const std::size_t n_random =
        cfg.algorithm == "random" ? cfg.n_doe + cfg.n_iterations * cfg.n_candidates : cfg.n_doe;
    for (std::size_t tries = 0; doe.size() < n_random && tries < 100 * n_random; ++tries)
      push(space.sample(gen));
    evaluate_into_archive(doe, 0, {},
                          cfg.algorithm == "random" ? "random search" : "initial archive");
    if (res.ref_point.empty()) {
      const auto rows = detail::objective_rows(arch, objectives);
      res.ref_point.assign(objectives.size(), -std::numeric_limits<double>::infinity());
      for (const auto& r : rows)
        for (std::size_t j = 0; j < r.size(); ++j)
          res.ref_point[j] = std::max(res.ref_point[j], r[j]);
    }
    res.hypervolume = {
        detail::normalised_hv(detail::objective_rows(arch, objectives), res.ref_point)};
    save_state(0, "done", json::value());
    phase = "done";
    if (cb.on_iteration) cb.on_iteration(0, arch, res);
  }

  const std::size_t n_iter = cfg.algorithm == "random" ? 0 : cfg.n_iterations;
  for (std::size_t it = phase == "done" ? done_iter + 1 : done_iter; it <= n_iter; ++it) {
    const std::uint64_t it_seed = cfg.seed * 1000003ULL + it;
    std::vector<search::genome> cands;
    // predicted[k][i]: surrogate k's predicted error (task k) of candidate i.
    std::vector<std::vector<double>> predicted(tasks.size());
    if (!(done_iter == it &&
          (phase == "candidates" || phase == "evaluated" || phase == "adapted"))) {
      // One surrogate per accuracy objective, each fitted on its own task's errors over the
      // (re-evaluated) archive; then the search on (predicted errors, costs...).
      const auto rows = detail::objective_rows(arch, objectives);
      std::vector<search::genome> genomes;
      for (const auto& e : arch.entries()) genomes.push_back(e.genome);
      const auto X = space.features(genomes, search::feature_encoding::compact);
      std::vector<std::unique_ptr<surrogate::regressor>> models;
      for (std::size_t k = 0; k < tasks.size(); ++k) {
        std::vector<double> err;
        for (const auto& e : arch.entries()) err.push_back(e.objective(tasks[k].objective));
        // The primary surrogate keeps the single-task seed, so single-dataset runs are unchanged.
        models.push_back(surrogate::make_regressor(
            cfg.surrogate, k == 0 ? it_seed : it_seed ^ (0x9e3779b97f4a7c15ULL * k)));
        models.back()->fit(X, err);
      }

      evo::problem prob;
      prob.n_var = space.n_var();
      prob.n_obj = objectives.size();
      prob.lower = space.lower_row();
      prob.upper = space.upper_row();
      prob.integer.assign(prob.n_var, true);
      prob.evaluate = [&](const points& Xs) {
        std::vector<search::genome> gs;
        for (const auto& x : Xs) gs.push_back(space.repair(search::genome_from_row(x)));
        const auto feats = space.features(gs, search::feature_encoding::compact);
        points F(gs.size(), std::vector<double>(objectives.size()));
        for (std::size_t k = 0; k < tasks.size(); ++k) {
          const auto pred = models[k]->predict(feats);
          for (std::size_t i = 0; i < gs.size(); ++i) F[i][tasks[k].column] = pred[i];
        }
        for (std::size_t i = 0; i < gs.size(); ++i) {
          const auto c = space.decode(gs[i]);
          for (auto j : cheap) F[i][j] = primary.cost(objectives[j], c);
        }
        return F;
      };
      // Start from the archive's non-dominated members plus random samples (NSV2 seeds the
      // population with the archive's front).
      evo::run_options opt;
      opt.term.n_gen = cfg.search.n_gen;
      const auto archive_front = evo::non_dominated_sort(rows).front();
      for (auto i : archive_front)
        if (opt.initial_X.size() < cfg.search.pop_size)
          opt.initial_X.push_back(search::genome_to_row(arch[i].genome));
      evo::result found;
      if (objectives.size() <= 2) {
        evo::nsga2_params p;
        p.pop_size = cfg.search.pop_size;
        p.use_nat_integer_operators();
        p.crossover.prob = cfg.search.crossover_prob;
        p.mutation.eta = cfg.search.mutation_eta;
        p.save_history = false;
        found = evo::nsga2(p).solve(prob, opt, it_seed);
      } else {
        evo::nsga3_params p;
        p.pop_size = cfg.search.pop_size;
        p.use_nat_integer_operators();
        p.crossover.prob = cfg.search.crossover_prob;
        p.mutation.eta = cfg.search.mutation_eta;
        p.save_history = false;
        // NSGA-III needs at least as many individuals as directions; scaled-down presets shrink
        // both.
        const std::size_t n_dirs =
            std::max(objectives.size(), std::min(cfg.search.n_ref_dirs, cfg.search.pop_size));
        const auto dirs =
            evo::riesz_energy_directions(objectives.size(), n_dirs, cfg.search.ref_dirs_seed);
        found = evo::nsga3(p, dirs).solve(prob, opt, it_seed);
      }
      // Candidate subset (nat_spec.md §4.4): drop what the archive has, spread along the costs.
      std::vector<search::genome> pool;
      std::vector<std::vector<double>> pool_pred(tasks.size());
      points pool_costs;
      std::set<search::genome> seen;
      for (std::size_t i = 0; i < found.pop.size(); ++i) {
        auto g = space.repair(search::genome_from_row(
            std::vector<double>(found.pop.x(i), found.pop.x(i) + found.pop.n_var)));
        if (arch.find(space.decode(g)) != arch.size() || !seen.insert(g).second) continue;
        const double* f = found.pop.f(i);
        for (std::size_t k = 0; k < tasks.size(); ++k) pool_pred[k].push_back(f[tasks[k].column]);
        std::vector<double> c;
        for (auto j : cheap) c.push_back(f[j]);
        pool_costs.push_back(std::move(c));
        pool.push_back(std::move(g));
      }
      std::vector<std::size_t> pick;
      if (!cheap.empty()) {
        // Only the cheap objectives spread the subset (§4.4), however many errors are predicted.
        points front_costs;
        for (auto i : archive_front) {
          std::vector<double> c;
          for (auto j : cheap) c.push_back(rows[i][j]);
          front_costs.push_back(std::move(c));
        }
        subset_selection_params sp{cfg.search.subset_pop_size, cfg.search.subset_n_gen};
        pick = select_subset(front_costs, pool_costs, cfg.n_candidates, it_seed, sp);
      } else if (tasks.size() == 1) {
        std::vector<std::size_t> order(pool.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
          return pool_pred[0][a] < pool_pred[0][b];
        });
        order.resize(std::min(order.size(), cfg.n_candidates));
        pick = order;
      } else {
        // Only errors (on several tasks): the best by rank and crowding in predicted-error space.
        points pred_rows(pool.size());
        for (std::size_t i = 0; i < pool.size(); ++i)
          for (std::size_t k = 0; k < tasks.size(); ++k) pred_rows[i].push_back(pool_pred[k][i]);
        pick = detail::survivors(pred_rows, cfg.n_candidates);
      }
      for (auto i : pick) {
        cands.push_back(pool[i]);
        for (std::size_t k = 0; k < tasks.size(); ++k) predicted[k].push_back(pool_pred[k][i]);
      }
      // Top up with random unseen subnets when the population had too few new ones.
      rng gen(it_seed ^ 0x5bd1e995ULL);
      for (std::size_t tries = 0; cands.size() < cfg.n_candidates && tries < 1000; ++tries) {
        auto g = space.sample(gen);
        if (arch.find(space.decode(g)) != arch.size() || !seen.insert(g).second) continue;
        const points f{space.features(g, search::feature_encoding::compact)};
        for (std::size_t k = 0; k < tasks.size(); ++k)
          predicted[k].push_back(models[k]->predict(f)[0]);
        cands.push_back(std::move(g));
      }
      json::value extra_state;
      json::array cj;
      for (const auto& g : cands) cj.push_back(json::value(g));
      extra_state["candidates"] = json::value(cj);
      extra_state["predicted"] = predicted[0];
      extra_state["model"] = models[0]->name();
      if (tasks.size() > 1) {
        json::array further;
        for (std::size_t k = 1; k < tasks.size(); ++k) {
          json::value v;
          v["objective"] = tasks[k].objective;
          v["model"] = models[k]->name();
          v["predicted"] = predicted[k];
          further.push_back(v);
        }
        extra_state["tasks"] = json::value(further);
      }
      save_state(it, "candidates", extra_state);
      done_iter = it;
      phase = "candidates";
    } else {
      const auto& ex = state.at("extra");
      for (const auto& g : ex.at("candidates").as_array()) {
        search::genome gg;
        for (const auto& x : g.as_array()) gg.push_back(static_cast<int>(x.as_int()));
        cands.push_back(std::move(gg));
      }
      for (std::size_t k = 0; k < tasks.size(); ++k) {
        const auto& src = k == 0 ? ex : ex.at("tasks").as_array().at(k - 1);
        for (const auto& x : src.at("predicted").as_array()) predicted[k].push_back(x.as_number());
      }
    }

    if (phase == "candidates") {
      evaluate_into_archive(cands, it, predicted[0], "evaluate candidates");
      // Surrogate quality on the new candidates (nat_spec.md §3, "Monitoring"), per accuracy
      // objective.
      const auto& ex = state.at("extra");
      for (std::size_t k = 0; k < tasks.size(); ++k) {
        std::vector<double> pred, truth;
        for (std::size_t i = 0; i < cands.size(); ++i) {
          const auto id = arch.find(space.decode(cands[i]));
          pred.push_back(predicted[k][i]);
          truth.push_back(arch[id].objective(tasks[k].objective));
        }
        surrogate_record r;
        r.iteration = it;
        r.objective = tasks[k].objective;
        r.model = (k == 0 ? ex : ex.at("tasks").as_array().at(k - 1)).at("model").as_string();
        if (pred.size() >= 2) {
          r.kendall_tau = metrics::kendall_tau(pred, truth);
          r.spearman = metrics::spearman(pred, truth);
        }
        if (!pred.empty()) r.rmse = metrics::rmse(pred, truth);
        res.surrogate.push_back(r);
      }
      save_state(it, "evaluated", state.at("extra"));
      phase = "evaluated";
    }

    if (phase == "evaluated") {
      // Supernet adaptation (nat_spec.md §5), one task after the other. Each task samples from the
      // top-N archive members by survival in (its own error, costs): its weights should be good
      // where its own trade-off front lies, as in a run on that dataset alone; the many-objective
      // top-N would dilute that with subnets that are only good on other tasks. Tasks already
      // adapted in this iteration (a kill between two of them) are not adapted twice.
      if (cfg.adaptation.epochs_per_iteration > 0) {
        json::value ex = state.at("extra");
        std::set<std::string> adapted;
        if (ex.contains("adapted"))
          for (const auto& x : ex.at("adapted").as_array()) adapted.insert(x.as_string());
        for (std::size_t k = 0; k < tasks.size(); ++k) {
          if (adapted.count(tasks[k].objective)) continue;
          std::vector<std::string> cols{tasks[k].objective};
          for (auto j : cheap) cols.push_back(objectives[j]);
          const auto rows = detail::objective_rows(arch, cols);
          std::vector<std::vector<int>> top;
          for (auto i : detail::survivors(rows, cfg.adaptation.top_n))
            top.push_back(arch[i].genome);
          archive_distribution dist(top, space.lower(), space.upper(),
                                    cfg.adaptation.distribution_smoothing);
          tasks[k].t->adapt(
              [&](rng& g) {
                return space.decode(
                    dist.sample(g, [&](search::genome x) { return space.repair(std::move(x)); }));
              },
              it, it_seed);
          tasks[k].t->save_state(tasks[k].state_dir);
          if (k + 1 < tasks.size()) {
            adapted.insert(tasks[k].objective);
            ex["adapted"] = std::vector<std::string>(adapted.begin(), adapted.end());
            save_state(it, "evaluated", ex);
          }
        }
      }
      save_state(it, "adapted", state.at("extra"));
      phase = "adapted";
    }

    if (phase == "adapted") {
      // The adapted weights change every subnet's accuracy: re-evaluate the whole archive on every
      // task (nat_spec.md §2), this iteration's candidates included (they were scored before the
      // adaptation).
      if (cfg.reevaluate_archive && cfg.adaptation.epochs_per_iteration > 0) {
        std::vector<std::size_t> todo;
        for (const auto& e : arch.entries())
          if (e.evaluated_at < it || (e.iteration == it && !e.reevaluated)) todo.push_back(e.id);
        progress_bar bar("re-evaluate archive", todo.size(), cb.quiet);
        for (std::size_t k = 0; k < todo.size(); ++k) {
          const auto& c = arch[todo[k]].config;
          const double acc = score(tasks[0], c);
          arch.reevaluate(todo[k], it, acc, extra_accs(c));
          bar.update(k + 1);
        }
        bar.finish();
      }
      res.hypervolume.push_back(
          detail::normalised_hv(detail::objective_rows(arch, objectives), res.ref_point));
      save_state(it, "done", json::value());
      phase = "done";
      done_iter = it;
      if (cb.on_iteration) cb.on_iteration(it, arch, res);
    }
  }

  const auto rows = detail::objective_rows(arch, objectives);
  res.front = evo::non_dominated_sort(rows).front();
  std::sort(res.front.begin(), res.front.end());
  return res;
}

/// Runs (or resumes) NAT on one task (every objective but "err" is a cheap one).
inline nat_result run_nat(const nat_config& cfg, task& t, const search::dynamic_mbv3_space& space,
                          const std::string& run_dir, const nat_callbacks& cb = {}) {
  return run_nat(cfg, t, std::map<std::string, task*>{}, space, run_dir, cb);
}

}  // namespace nat::transfer
