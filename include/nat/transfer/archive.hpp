#pragma once
/// \file The search archive: every evaluated subnet, kept as an append-only JSON-lines file so a
/// killed run resumes with every finished evaluation (nat_spec.md §2; DESIGN.md "Search state").
///
/// Each line is one event: {"type":"eval", ...} when a subnet is evaluated for the first time and
/// {"type":"reeval", "id":…, "iteration":…, "val_acc":…} when the adapted supernet re-evaluates it.
/// Loading replays the events in order. Runs with accuracy objectives on several datasets
/// (`err:<task>`) add "val_accs": {"<task>": top-1, …} to both kinds of line; lines without it (all
/// single-dataset runs, and archives written before the field existed) read as having none.
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/core/subnet_config.hpp"

namespace nat::transfer {

/// One evaluated subnet.
struct archive_entry {
  std::size_t id = 0;            ///< position in the archive, stable for the whole run
  std::size_t iteration = 0;     ///< iteration of the first evaluation (0 = initial sample)
  std::vector<int> genome;       ///< search-space genome
  subnet_config config;          ///< decoded phenotype
  std::string encoding;          ///< NAT's text encoding when the space has one
  double val_acc = 0.0;          ///< top-1 (%) on the search validation split, latest evaluation
  std::size_t evaluated_at = 0;  ///< iteration of the latest (re-)evaluation
  bool reevaluated = false;      ///< whether the latest value comes from a re-evaluation
  double predicted_err = std::numeric_limits<double>::quiet_NaN();  ///< surrogate's prediction
  std::vector<std::pair<std::string, double>> costs;  ///< cheap objectives (macs, params, ...)
  /// Top-1 (%) on each further task of a multi-dataset run, by task name (latest evaluation).
  std::vector<std::pair<std::string, double>> task_accs;

  /// Value of a cheap objective; config_error naming it when absent.
  double cost(const std::string& name) const {
    for (const auto& kv : costs)
      if (kv.first == name) return kv.second;
    throw config_error("archive_entry::cost: subnet " + std::to_string(id) +
                       " has no objective \"" + name + "\"");
  }

  /// Top-1 (%) on task `name`; "" is the primary task (val_acc). config_error when absent.
  double accuracy(const std::string& name) const {
    if (name.empty()) return val_acc;
    for (const auto& kv : task_accs)
      if (kv.first == name) return kv.second;
    throw config_error("archive_entry::accuracy: subnet " + std::to_string(id) +
                       " has no accuracy on task \"" + name + "\"");
  }

  /// Value of objective `name` as minimised by the search: "err" = 100 − val_acc, "err:<task>" =
  /// 100 − that task's top-1, anything else a cheap objective.
  double objective(const std::string& name) const {
    if (name == "err") return 100.0 - val_acc;
    if (name.rfind("err:", 0) == 0) return 100.0 - accuracy(name.substr(4));
    return cost(name);
  }
};

/// The archive of a run, optionally backed by a JSON-lines file.
class archive {
 public:
  archive() = default;

  /// An archive that appends every change to `path` (created when absent, replayed when present).
  explicit archive(std::string path) : path_(std::move(path)) { load(); }

  const std::vector<archive_entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  const archive_entry& operator[](std::size_t i) const { return entries_.at(i); }

  /// Index of the entry whose phenotype equals `c`, or size() when there is none.
  std::size_t find(const subnet_config& c) const {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].config == c) return i;
    return entries_.size();
  }

  /// Adds a newly evaluated subnet (its id is assigned here) and persists it; config_error when the
  /// same phenotype is already in the archive.
  const archive_entry& add(archive_entry e) {
    if (find(e.config) != entries_.size())
      throw config_error("archive::add: subnet " + to_json(e.config).dump() +
                         " is already archived");
    e.id = entries_.size();
    e.evaluated_at = e.iteration;
    if (!path_.empty()) append_line_durable(path_, to_event(e).dump());
    entries_.push_back(std::move(e));
    return entries_.back();
  }

  /// Records a re-evaluation of entry `id` with the adapted supernet(s): the primary task's top-1
  /// and, in multi-dataset runs, that of every further task (one line, so a kill never leaves a
  /// subnet re-scored on some tasks only).
  void reevaluate(std::size_t id, std::size_t iteration, double val_acc,
                  const std::vector<std::pair<std::string, double>>& task_accs = {}) {
    if (id >= entries_.size())
      throw config_error("archive::reevaluate: no subnet with id " + std::to_string(id));
    if (!path_.empty()) {
      json::value ev;
      ev["type"] = "reeval";
      ev["id"] = id;
      ev["iteration"] = iteration;
      ev["val_acc"] = val_acc;
      if (!task_accs.empty()) ev["val_accs"] = accs_json(task_accs);
      append_line_durable(path_, ev.dump());
    }
    apply_reevaluation(entries_[id], iteration, val_acc, task_accs);
  }

  /// JSON object of one entry as stored on an "eval" line.
  static json::value to_event(const archive_entry& e) {
    json::value v;
    v["type"] = "eval";
    v["id"] = e.id;
    v["iteration"] = e.iteration;
    v["genome"] = e.genome;
    v["config"] = to_json(e.config);
    v["encoding"] = e.encoding;
    v["val_acc"] = e.val_acc;
    v["predicted_err"] =
        std::isfinite(e.predicted_err) ? json::value(e.predicted_err) : json::value();
    json::value costs;
    costs = json::object{};
    for (const auto& kv : e.costs) costs[kv.first] = kv.second;
    v["costs"] = costs;
    if (!e.task_accs.empty()) v["val_accs"] = accs_json(e.task_accs);
    return v;
  }

 private:
  static json::value accs_json(const std::vector<std::pair<std::string, double>>& accs) {
    json::value v;
    v = json::object{};
    for (const auto& kv : accs) v[kv.first] = kv.second;
    return v;
  }
  static std::vector<std::pair<std::string, double>> accs_from(const json::value& line) {
    std::vector<std::pair<std::string, double>> out;
    if (line.contains("val_accs"))
      for (const auto& kv : line.at("val_accs").as_object())
        out.emplace_back(kv.first, kv.second.as_number());
    return out;
  }
  static void apply_reevaluation(archive_entry& e, std::size_t iteration, double val_acc,
                                 const std::vector<std::pair<std::string, double>>& task_accs) {
    e.val_acc = val_acc;
    e.evaluated_at = iteration;
    e.reevaluated = true;
    for (const auto& kv : task_accs) {
      bool found = false;
      for (auto& old : e.task_accs)
        if (old.first == kv.first) old.second = kv.second, found = true;
      if (!found) e.task_accs.push_back(kv);
    }
  }

  void load() {
    std::string text;
    try {
      text = read_file(path_);
    } catch (const io_error&) {
      return;  // a new run: the file is created by the first add()
    }
    std::size_t line_no = 0, pos = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      ++line_no;
      if (nl == std::string::npos) {
        // A last line without its newline is a write torn by a kill: that evaluation never
        // finished.
        break;
      }
      const std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      try {
        replay(json::parse(line));
      } catch (const error& ex) {
        throw io_error("archive: " + path_ + " line " + std::to_string(line_no) +
                       " is corrupt: " + ex.what());
      }
    }
  }

  void replay(const json::value& v) {
    const std::string type = v.at("type").as_string();
    if (type == "eval") {
      archive_entry e;
      e.id = static_cast<std::size_t>(v.at("id").as_int());
      if (e.id != entries_.size())
        throw config_error("id " + std::to_string(e.id) + " out of sequence (expected " +
                           std::to_string(entries_.size()) + ")");
      e.iteration = static_cast<std::size_t>(v.at("iteration").as_int());
      e.evaluated_at = e.iteration;
      for (const auto& g : v.at("genome").as_array())
        e.genome.push_back(static_cast<int>(g.as_int()));
      e.config = subnet_config_from_json(v.at("config"));
      e.encoding = v.at("encoding").as_string();
      e.val_acc = v.at("val_acc").as_number();
      const auto& p = v.at("predicted_err");
      e.predicted_err = p.is_null() ? std::numeric_limits<double>::quiet_NaN() : p.as_number();
      for (const auto& kv : v.at("costs").as_object())
        e.costs.emplace_back(kv.first, kv.second.as_number());
      e.task_accs = accs_from(v);
      entries_.push_back(std::move(e));
    } else if (type == "reeval") {
      const auto id = static_cast<std::size_t>(v.at("id").as_int());
      if (id >= entries_.size())
        throw config_error("re-evaluation of unknown id " + std::to_string(id));
      apply_reevaluation(entries_[id], static_cast<std::size_t>(v.at("iteration").as_int()),
                         v.at("val_acc").as_number(), accs_from(v));
    } else {
      throw config_error("unknown event type \"" + type + "\"");
    }
  }

  std::string path_;
  std::vector<archive_entry> entries_;
};

}  // namespace nat::transfer
