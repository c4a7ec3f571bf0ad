#pragma once
// Typed option values shared by the `nat` commands, and how a command is told which subnet to use.
#include <cmath>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/subnet_config.hpp"
#include "nat/search/mbv3_space.hpp"

namespace nat_cli {

/// Positive integers separated by commas ("28,32,36"); usage_error naming the option otherwise.
inline std::vector<std::size_t> parse_sizes(const std::string& text, const char* what) {
  std::vector<std::size_t> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    const std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || v <= 0)
      throw usage_error(std::string("--") + what +
                        " expects positive integers separated by commas, got \"" + text + "\"");
    out.push_back(static_cast<std::size_t>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

/// Local time as YYYYmmdd-HHMMSS: the name of a new run directory (runs/<timestamp>).
inline std::string run_timestamp() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

/// A positive integer option (`fallback` when absent); usage_error naming it otherwise.
inline std::size_t get_positive(const parsed_args& a, const std::string& name, long long fallback) {
  const long long v = a.get_int(name, fallback);
  if (v <= 0) throw usage_error("--" + name + " must be positive");
  return static_cast<std::size_t>(v);
}

/// A floating-point option; usage_error naming it when the text is not a number.
inline double get_double(const parsed_args& a, const std::string& name, double fallback) {
  if (!a.has(name)) return fallback;
  try {
    std::size_t used = 0;
    const double v = std::stod(a.get(name), &used);
    if (used == a.get(name).size()) return v;
  } catch (const std::exception&) {
  }
  throw usage_error("--" + name + " expects a number, got \"" + a.get(name) + "\"");
}

/// --checkpoint-every: seconds between checkpoints within an epoch (default 300; 0 = none).
inline double checkpoint_interval(const parsed_args& a) {
  const double s = get_double(a, "checkpoint-every", 300.0);
  if (!(s >= 0) || !std::isfinite(s))
    throw usage_error("--checkpoint-every must be a number of seconds >= 0");
  return s;
}

/// NAT's net.encoding text (nat_spec §1: 2-digit resolution index, width index, one digit per
/// layer slot) decoded by the search space of `preset`: the small space (R = 28 + 4 idx) for
/// mbv3_small, NAT's space (R = 192 + 4 idx, w 1.0/1.2) for the OFA presets and for "".
inline nat::subnet_config decode_encoding(const std::string& text, const std::string& preset) {
  if (preset == "mbv3_small") return nat::search::nat_mbv3_small_space{}.decode_encoding(text);
  return nat::search::nat_mbv3_space{}.decode_encoding(text);
}

/// A subnet given as JSON text ({"r","w","ks","e","d"}, recognised by its '{'), a file holding it
/// (net.subnet, subnet.json) or an exported subnet's directory (its subnet.json); `what` names the
/// option in the usage_error for unreadable or malformed input.
inline nat::subnet_config read_subnet_config(const std::string& arg, const std::string& what) {
  std::string text = arg;
  if (arg.find('{') == std::string::npos) {
    std::string path = arg;
    if (nat::file_exists(path + "/subnet.json")) path += "/subnet.json";
    if (!nat::file_exists(path))
      throw usage_error(what + ": \"" + arg + "\" is neither JSON nor an existing file");
    try {
      text = nat::read_file(path);
    } catch (const nat::error& e) {
      throw usage_error(what + ": " + e.what());
    }
  }
  try {
    return nat::parse_subnet_config(text);
  } catch (const nat::error& e) {
    throw usage_error(what + ": " + e.what());
  }
}

/// The subnet of `--encoding DIGITS` or `--config JSON|FILE` when one of them is given (nullopt
/// when neither is); usage_error when both are or the value is malformed. Encodings are decoded by
/// the space of `preset` (see decode_encoding).
inline std::optional<nat::subnet_config> subnet_option(const parsed_args& a,
                                                       const std::string& preset) {
  if (a.has("encoding") && a.has("config"))
    throw usage_error("give either --encoding or --config, not both");
  if (a.has("encoding")) {
    try {
      return decode_encoding(a.get("encoding"), preset);
    } catch (const nat::error& e) {
      throw usage_error(std::string("--encoding: ") + e.what());
    }
  }
  if (a.has("config")) return read_subnet_config(a.get("config"), "--config");
  return std::nullopt;
}

/// As subnet_option, for commands that need a subnet: usage_error when neither option is given.
inline nat::subnet_config required_subnet_option(const parsed_args& a, const std::string& preset) {
  auto cfg = subnet_option(a, preset);
  if (!cfg) throw usage_error("give exactly one of --encoding or --config");
  return *cfg;
}

}  // namespace nat_cli
