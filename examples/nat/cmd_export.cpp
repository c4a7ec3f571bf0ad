// `nat export`: one subnet of a trained supernet as a self-contained directory (weights,
// subnet.json, OFA's net.config, info.json), loadable with nat::transfer::load_exported_subnet.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "calibration.hpp"
#include "cli.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/elastic/supernet.hpp"
#include "nat/elastic/supernet_config.hpp"
#include "nat/io/safetensors.hpp"
#include "nat/transfer/subnet_export.hpp"
#include "options.hpp"
#include "task_data.hpp"

namespace nat_cli {

// Shared with cmd_evaluate.cpp (declared there): reading a supernet file.
namespace subnet_args {

/// A supernet of preset `preset` with the weights of `path`. Classes and input channels come
/// from --n-classes / --in-channels, else from the file's classifier and first-conv shapes.
std::unique_ptr<nat::elastic::supernet> load_supernet(const parsed_args& a, const std::string& path,
                                                      const std::string& preset) {
  if (!nat::file_exists(path)) throw usage_error("supernet file " + path + " does not exist");
  int classes = static_cast<int>(a.get_int("n-classes", 0));
  int in_ch = static_cast<int>(a.get_int("in-channels", 0));
  if (a.has("n-classes") && classes <= 0) throw usage_error("--n-classes must be positive");
  if (a.has("in-channels") && in_ch <= 0) throw usage_error("--in-channels must be positive");
  if (classes == 0 || in_ch == 0) {
    const auto file = nat::io::load_safetensors<float>(path);
    auto cls = file.find("classifier.linear.weight");
    auto fc = file.find("first_conv.conv.weight");
    if (classes == 0 && cls != file.end() && cls->second.rank() == 2)
      classes = static_cast<int>(cls->second.size(0));
    if (in_ch == 0 && fc != file.end() && fc->second.rank() == 4)
      in_ch = static_cast<int>(fc->second.size(1));
  }
  auto net =
      std::make_unique<nat::elastic::supernet>(nat::elastic::preset(preset, classes, in_ch), 0);
  nat::io::load_safetensors_into(path, net->state_dict());
  return net;
}

}  // namespace subnet_args

int run_export(const std::vector<std::string>& argv) {
  const std::vector<option> opts = {
      {"supernet", "FILE", "supernet weights (safetensors, as written by train-supernet/search)"},
      {"preset", "NAME", "supernet layout: mbv3_small | ofa_mbv3_w10 | ofa_mbv3_w12"},
      {"n-classes", "K", "classifier outputs (default: read from the supernet file)"},
      {"in-channels", "C", "image channels (default: read from the supernet file)"},
      {"encoding", "DIGITS", "the subnet as NAT's 23-digit net.encoding"},
      {"config", "JSON|FILE", "the subnet as {\"r\",\"w\",\"ks\",\"e\",\"d\"} text or a file"},
      {"out", "DIR", "output directory (created; existing files are replaced)"},
      {"dataset", "NAME",
       "recalibrate the subnet's BN statistics on this dataset's training images first "
       "(fashion-mnist, digits, idx:DIR; as nat search and nat evaluate --supernet do)"},
      {"data", "PATH", "dataset location (default: the Debian package's)"},
      {"json", "", "print one JSON object on stdout"},
  };
  const auto a = parse(argv, opts);
  if (a.flag("help")) {
    std::fputs(help_text("export",
                         "Extracts one subnet of a supernet into DIR: weights.safetensors (the "
                         "static network's state dict,\nOFA names), subnet.json ({r,w,ks,e,d}, "
                         "preset, classes, channels, NAT encoding), net.config\n(OFA's network "
                         "JSON) and info.json (MACs, params). Load it with `nat evaluate --subnet "
                         "DIR`\nor nat::transfer::load_exported_subnet(DIR).\n\n"
                         "A supernet's stored BN statistics are shared by all its subnets, so an "
                         "exported subnet is only\nready to use after recalibration for it "
                         "(ofa_spec.md 5): give --dataset, the task it was trained\non (2000 of "
                         "its training images, the ones nat search and nat evaluate --supernet "
                         "use).",
                         opts)
                   .c_str(),
               stdout);
    return 0;
  }
  if (!a.positional.empty()) throw usage_error("unexpected argument \"" + a.positional[0] + "\"");
  for (const char* req : {"supernet", "preset", "out"})
    if (!a.has(req)) throw usage_error(std::string("--") + req + " is required (see --help)");
  const std::string preset = a.get("preset");
  nat::elastic::preset(preset);  // unknown names fail before the file is read
  const auto cfg = required_subnet_option(a, preset);
  if (a.has("data") && !a.has("dataset")) throw usage_error("--data needs --dataset");
  auto net = subnet_args::load_supernet(a, a.get("supernet"), preset);
  const std::string out = a.get("out");
  if (a.has("dataset")) {
    const auto data = load_task_data(a.get("dataset"), a.get_or("data", ""));
    const auto& spec = net->spec();
    if (std::size_t(data.train.n_classes()) != spec.n_classes)
      throw usage_error("the supernet has " + std::to_string(spec.n_classes) +
                        " classes, dataset " + a.get("dataset") + " has " +
                        std::to_string(data.train.n_classes()));
    const auto tf = nat::data::nat_transforms(data.train, data.flip, spec.in_channels);
    recalibrate_subnet(*net, cfg, data.train, tf);
  } else {
    std::fprintf(stderr,
                 "nat export: no --dataset, so the subnet keeps the supernet's stored BN "
                 "statistics (recalibrate before use: see --help)\n");
  }
  nat::transfer::export_subnet(out, *net, cfg);
  const auto info = nat::transfer::read_exported_subnet_info(out);
  if (a.flag("json")) {
    nat::json::value j;
    j["out"] = out;
    j["preset"] = info.preset;
    j["config"] = nat::to_json(info.config);
    if (!info.encoding.empty()) j["encoding"] = info.encoding;
    j["macs"] = info.macs;
    j["params"] = info.params;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("exported %s subnet (r=%d, %lld MACs, %lld params) to %s\n", info.preset.c_str(),
                info.config.r, static_cast<long long>(info.macs),
                static_cast<long long>(info.params), out.c_str());
  }
  return 0;
}

}  // namespace nat_cli
