// `nat info`: what a subnet is and what it costs (config, MACs, parameters), and the size of the
// preset's search space.
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "nat/core/json.hpp"
#include "nat/elastic/count.hpp"
#include "nat/elastic/latency_table.hpp"
#include "nat/elastic/subnet_config.hpp"
#include "nat/elastic/supernet_config.hpp"
#include "options.hpp"

namespace nat_cli {

namespace {

std::string human(double v) {
  char buf[64];
  if (v >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3g G", v / 1e9);
  else if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%.4g M", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string ints(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

int run_info(const std::vector<std::string>& argv) {
  const std::vector<option> opts = {
      {"preset", "NAME", "ofa_mbv3_w10 | ofa_mbv3_w12 | mbv3_small (default: from the subnet's w)"},
      {"encoding", "DIGITS", "NAT 23-digit net.encoding, e.g. 08111003100632076009771"},
      {"config", "JSON|FILE",
       "subnet as {\"r\",\"w\",\"ks\",\"e\",\"d\"} text or a file holding it"},
      {"resolution", "R", "override the subnet's input resolution"},
      {"classes", "N", "number of classes of the classifier (default: the preset's)"},
      {"in-channels", "N", "image channels (default: the preset's)"},
      {"latency-table", "FILE", "also predict latency (ms) from a JSON latency lookup table"},
      {"json", "", "print one JSON object on stdout"},
  };
  const auto a = parse(argv, opts);
  if (a.flag("help")) {
    std::fputs(
        help_text("info",
                  "Prints a subnet's architecture, MACs (conv + linear multiply-accumulates, "
                  "OFA's analytic count) and parameters,\nand the preset's search-space "
                  "size. Without --encoding/--config it describes the preset.",
                  opts)
            .c_str(),
        stdout);
    return 0;
  }
  if (!a.positional.empty()) throw usage_error("unexpected argument \"" + a.positional[0] + "\"");
  // Without --preset an encoding is read in NAT's space (the OFA presets).
  const auto given = subnet_option(a, a.get_or("preset", ""));
  const bool have_cfg = given.has_value();
  nat::subnet_config cfg = given.value_or(nat::subnet_config{});
  if (a.has("resolution")) {
    if (!have_cfg) throw usage_error("--resolution needs --encoding or --config");
    cfg.r = static_cast<int>(a.get_int("resolution", 0));
  }
  const int classes = static_cast<int>(a.get_int("classes", 0));
  const int in_ch = static_cast<int>(a.get_int("in-channels", 0));
  if (a.has("classes") && classes <= 0) throw usage_error("--classes must be positive");
  if (a.has("in-channels") && in_ch <= 0) throw usage_error("--in-channels must be positive");

  std::string preset_name = a.get_or("preset", "");
  if (preset_name.empty()) {
    if (!have_cfg) throw usage_error("give --preset, --encoding or --config (see --help)");
    preset_name = nat::elastic::ofa_preset_for(cfg).name;
  }
  const auto p = nat::elastic::preset(preset_name, classes, in_ch);

  nat::json::value out;
  if (have_cfg) {
    p.check(cfg, "subnet");
    const auto macs = nat::elastic::count_macs(p, cfg);
    const auto params = nat::elastic::count_params(p, cfg);
    double latency = -1;
    if (a.has("latency-table"))
      latency = nat::elastic::latency_table::load(a.get("latency-table")).predict(p, cfg);
    if (a.flag("json")) {
      out["macs"] = macs;
      out["params"] = params;
      out["config"] = nat::to_json(cfg);
      if (latency >= 0) out["latency_ms"] = latency;
    } else {
      if (latency >= 0) std::printf("latency     %.3f ms (lookup table)\n", latency);
      std::printf("preset      %s (%d input channels, %d classes)\n", p.name.c_str(), p.in_channels,
                  p.n_classes);
      std::printf(
          "resolution  %d\nwidth       %g\ndepth       %s\nkernel      %s\nexpand      %s\n", cfg.r,
          cfg.w, ints(cfg.d).c_str(), ints(cfg.ks).c_str(), ints(cfg.e).c_str());
      std::printf("MACs        %s (%lld)\nparams      %s (%lld)\n", human(double(macs)).c_str(),
                  static_cast<long long>(macs), human(double(params)).c_str(),
                  static_cast<long long>(params));
    }
  }
  const auto big = p.largest(), small = p.smallest(p.resolutions.front());
  if (a.flag("json")) {
    out["preset"] = p.name;
    out["space_size"] = p.space_size();
    out["resolutions"] = p.resolutions;
    out["largest_macs"] = nat::elastic::count_macs(p, big);
    out["smallest_macs"] = nat::elastic::count_macs(p, small);
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf(
        "space       %.3g subnets (%zu resolutions %d..%d, kernel %s, expand %s, depth %s)\n",
        p.space_size(), p.resolutions.size(), p.resolutions.front(), p.resolutions.back(),
        ints(p.kernel_list).c_str(), ints(p.expand_list).c_str(), ints(p.depth_list).c_str());
    std::printf("range       %s MACs (smallest @%d) .. %s MACs (largest @%d)\n",
                human(double(nat::elastic::count_macs(p, small))).c_str(), small.r,
                human(double(nat::elastic::count_macs(p, big))).c_str(), big.r);
  }
  return 0;
}

}  // namespace nat_cli
