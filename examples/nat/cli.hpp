#pragma once
// The `nat` program's small command-line toolkit: a declarative option parser and the subcommand
// table entry type. Each subcommand lives in its own cmd_<name>.cpp and registers in main.cpp.
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace nat_cli {

/// Wrong usage (unknown option, missing value, bad number): one line on stderr, exit code 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One option a command accepts: `--name VALUE` (or `--name=VALUE`), or a flag `--name`.
struct option {
  std::string name;   ///< without the leading dashes
  std::string value;  ///< placeholder shown in help ("N", "FILE"); empty for a flag
  std::string help;   ///< one line
};

/// Parsed options of one command invocation.
class parsed_args {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::string& get(const std::string& name) const { return values_.at(name); }
  std::string get_or(const std::string& name, const std::string& fallback) const {
    return has(name) ? get(name) : fallback;
  }
  /// Integer option; usage_error naming the option when it is not one.
  long long get_int(const std::string& name, long long fallback) const {
    if (!has(name)) return fallback;
    const std::string& s = get(name);
    std::size_t pos = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos != s.size() || s.empty())
      throw usage_error("--" + name + " expects an integer, got \"" + s + "\"");
    return v;
  }
  bool flag(const std::string& name) const { return has(name); }
  std::vector<std::string> positional;  ///< arguments that are not options
  std::map<std::string, std::string> values_;
};

/// Parses `args` against `options`; `--help` is always accepted as a flag.
inline parsed_args parse(const std::vector<std::string>& args, const std::vector<option>& options) {
  parsed_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (name == "help") {
      out.values_["help"] = "";
      continue;
    }
    const option* opt = nullptr;
    for (const auto& o : options)
      if (o.name == name) opt = &o;
    if (!opt) throw usage_error("unknown option --" + name + " (see --help)");
    if (opt->value.empty()) {
      if (inline_value) throw usage_error("--" + name + " takes no value");
      out.values_[name] = "";
    } else {
      if (!inline_value) {
        if (i + 1 >= args.size()) throw usage_error("--" + name + " needs a value " + opt->value);
        value = args[++i];
      }
      out.values_[name] = value;
    }
  }
  return out;
}

/// Help text of a command: usage line, description, options.
inline std::string help_text(const std::string& command, const std::string& description,
                             const std::vector<option>& options) {
  std::string s = "usage: nat " + command + " [options]\n\n" + description + "\n\noptions:\n";
  auto row = [&](const std::string& left, const std::string& help) {
    std::string l = "  " + left;
    if (l.size() < 30)
      l.resize(30, ' ');
    else
      l += "  ";
    s += l + help + "\n";
  };
  for (const auto& o : options) row("--" + o.name + (o.value.empty() ? "" : " " + o.value), o.help);
  row("--help", "show this help");
  return s;
}

/// A subcommand: its name, a one-line summary, and its entry point (arguments after the name).
struct command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

}  // namespace nat_cli
