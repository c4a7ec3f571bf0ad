#include "nat/transfer/subnet_export.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "../common/tiny_task.hpp"
#include "nat/autograd/grad_mode.hpp"
#include "nat/core/file.hpp"

namespace {

using nat_test::tiny_layout;

std::string temp_dir(const char* tag) {
  const std::string d =
      "/tmp/nat_subnet_export_" + std::string(tag) + "_" + std::to_string(::getpid());
  std::system(("rm -rf " + d).c_str());
  return d;
}

// Gives BN statistics and biases non-default values so a lost buffer would change the output.
void perturb(nat::elastic::supernet& net) {
  nat::rng g(11);
  for (auto& [name, t] : net.state_dict()) {
    if (name.find("running_var") != std::string::npos) {
      for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = float(0.5 + g.uniform(0, 1));
    } else if (name.find("running_mean") != std::string::npos ||
               name.find("bias") != std::string::npos) {
      for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = float(g.uniform(-0.3, 0.3));
    }
  }
}

nat::subnet_config mixed_subnet(const nat::elastic::supernet_config& p) {
  nat::subnet_config c;
  c.r = 16;
  c.w = p.width_mult;
  c.d = {2, 3};
  c.ks = {3, 7, 5, 3, 7};
  c.e = {4, 6, 3, 6, 4};
  return c;
}

}  // namespace

TEST_CASE("subnet_export: round trip gives the extracted network's output bit for bit") {
  const auto layout = tiny_layout();
  nat::elastic::supernet net(layout, 3);
  perturb(net);
  const auto cfg = mixed_subnet(layout);
  const std::string dir = temp_dir("roundtrip");
  nat::transfer::export_subnet(dir, net, cfg, {{"val_acc", 87.5}});
  CHECK(net.active() == layout.largest());  // restored

  for (const char* f : {"weights.safetensors", "subnet.json", "net.config", "info.json"})
    CHECK(nat::file_exists(dir + "/" + f));

  net.set_active(cfg);
  auto ref = net.extract();
  ref->eval();
  auto loaded = nat::transfer::load_exported_subnet(dir, layout);
  CHECK(loaded.info.config == cfg);
  CHECK(loaded.info.preset == "tiny");
  CHECK(loaded.info.n_classes == 3);
  CHECK(loaded.info.encoding.empty());  // no NAT space for a custom layout
  CHECK(loaded.info.macs == nat::elastic::count_macs(layout, cfg));
  CHECK(loaded.info.params == nat::elastic::count_params(layout, cfg));
  CHECK(loaded.info.params == std::int64_t(loaded.net->n_parameters()));
  CHECK(loaded.info.metrics.at("val_acc") == 87.5);
  CHECK_FALSE(loaded.net->is_training());

  nat::autograd::no_grad guard;
  const auto x = nat::tensor<float>::randn({3, 1, 16, 16}, 5);
  const auto a = ref->forward(x).to_vector();
  const auto b = loaded.net->forward(x).to_vector();
  const auto c = [&] {
    net.eval();
    return net.forward(x).to_vector();
  }();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i] == b[i]);
    CHECK(c[i] == doctest::Approx(b[i]).epsilon(1e-5));
  }

  // A differently initialised supernet gives different outputs: the weights really came from
  // the file.
  nat::elastic::supernet other(layout, 4);
  other.set_active(cfg);
  auto o = other.extract();
  o->eval();
  CHECK(o->forward(x).to_vector() != b);

  // net.config (OFA's get_active_net_config): 1 + 5 blocks, stride and shortcut as OFA.
  const auto nc = nat::json::parse(nat::read_file(dir + "/net.config"));
  CHECK(nc.at("name").as_string() == "MobileNetV3");
  const auto& blocks = nc.at("blocks").as_array();
  REQUIRE(blocks.size() == 6);
  const auto& b1 = blocks[1].at("conv");
  CHECK(b1.at("name").as_string() == "MBConvLayer");
  CHECK(b1.at("kernel_size").as_int() == 3);
  CHECK(b1.at("expand_ratio").as_int() == 4);
  CHECK(b1.at("mid_channels").as_int() == 32);  // md(round(8*4))
  CHECK(b1.at("stride").as_int() == 2);
  CHECK(blocks[1].at("shortcut").is_null());
  CHECK(blocks[2].at("shortcut").at("name").as_string() == "IdentityLayer");
  CHECK(blocks[3].at("conv").at("use_se").as_bool());
  CHECK(blocks[3].at("conv").at("act_func").as_string() == "h_swish");
  CHECK(nc.at("classifier").at("out_features").as_int() == 3);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("subnet_export: mbv3_small preset carries NAT's encoding and loads by name") {
  const auto layout = nat::elastic::mbv3_small(1, 10);
  nat::elastic::supernet net(layout, 1);
  const auto cfg = layout.smallest(28);
  const std::string dir = temp_dir("preset");
  nat::transfer::export_subnet(dir, net, cfg);
  auto loaded = nat::transfer::load_exported_subnet(dir);
  CHECK(loaded.info.preset == "mbv3_small");
  // resolution index 0, width index 0, per stage genes 1 1 0 0 (k3 e3 = choice 1).
  CHECK(loaded.info.encoding == "00011001100110011001100");
  CHECK(nat::search::nat_mbv3_small_space{}.decode_encoding(loaded.info.encoding) == cfg);
  // r = 64 is a resolution of the supernet but not of NAT's small space: no encoding, no error.
  CHECK(nat::transfer::nat_encoding_for(layout, layout.smallest(64)).empty());
  net.set_active(cfg);
  auto ref = net.extract();
  ref->eval();
  nat::autograd::no_grad guard;
  const auto x = nat::tensor<float>::randn({2, 1, 28, 28}, 9);
  CHECK(ref->forward(x).to_vector() == loaded.net->forward(x).to_vector());
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("subnet_export: missing, corrupt and mismatched files are clear errors") {
  const auto layout = tiny_layout();
  nat::elastic::supernet net(layout, 3);
  const auto cfg = mixed_subnet(layout);
  const std::string dir = temp_dir("errors");
  auto fresh = [&] {
    std::system(("rm -rf " + dir).c_str());
    nat::transfer::export_subnet(dir, net, cfg);
  };
  auto message = [&]() -> std::string {
    try {
      nat::transfer::load_exported_subnet(dir, layout);
    } catch (const nat::io_error& e) {
      return std::string("io: ") + e.what();
    } catch (const nat::config_error& e) {
      return std::string("config: ") + e.what();
    }
    return "no error";
  };
  auto contains = [](const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
  };

  fresh();
  CHECK(message() == "no error");

  std::remove((dir + "/weights.safetensors").c_str());
  auto m = message();
  CHECK(contains(m, "io: "));
  CHECK(contains(m, "weights.safetensors is missing"));

  fresh();
  std::remove((dir + "/subnet.json").c_str());
  m = message();
  CHECK(contains(m, "io: "));
  CHECK(contains(m, "subnet.json is missing"));

  fresh();
  nat::write_file_atomic(dir + "/subnet.json", "{\"r\": 16, \"ks\": [3");
  m = message();
  CHECK(contains(m, "io: "));
  CHECK(contains(m, "subnet.json is not valid JSON"));

  fresh();
  nat::write_file_atomic(dir + "/info.json", "not json");
  m = message();
  CHECK(contains(m, "info.json is not valid JSON"));

  fresh();  // a subnet the layout does not have
  auto bad = nat::to_json(cfg);
  bad["ks"] = std::vector<int>{3, 9, 5, 3, 7};
  bad["preset"] = "tiny";
  bad["n_classes"] = 3;
  bad["in_channels"] = 1;
  nat::write_file_atomic(dir + "/subnet.json", bad.dump());
  m = message();
  CHECK(contains(m, "config: "));
  CHECK(contains(m, "subnet.json"));
  CHECK(contains(m, "kernel 9"));

  fresh();  // weights of another subnet: wrong shapes, nothing loaded
  {
    const std::string other = dir + "_other";
    auto small = layout.smallest(16);
    nat::transfer::export_subnet(other, net, small);
    std::rename((other + "/weights.safetensors").c_str(), (dir + "/weights.safetensors").c_str());
    std::system(("rm -rf " + other).c_str());
  }
  m = message();
  CHECK(contains(m, "config: "));
  CHECK(contains(m, "weights.safetensors"));
  CHECK(contains(m, "wrong shape"));

  fresh();  // truncated weights
  {
    const std::string w = nat::read_file(dir + "/weights.safetensors");
    nat::write_file_atomic(dir + "/weights.safetensors", w.substr(0, w.size() / 2));
  }
  m = message();
  CHECK(contains(m, "io: "));
  CHECK(contains(m, "truncated"));

  fresh();  // net.config that describes another network
  {
    auto nc = nat::json::parse(nat::read_file(dir + "/net.config"));
    nc["classifier"]["out_features"] = 7;
    nat::write_file_atomic(dir + "/net.config", nc.dump());
  }
  m = message();
  CHECK(contains(m, "net.config does not describe"));

  fresh();  // a run's own classifier dropout is taken from net.config, not called a mismatch
  {
    auto nc = nat::json::parse(nat::read_file(dir + "/net.config"));
    nc["classifier"]["dropout_rate"] = 0.25;
    nat::write_file_atomic(dir + "/net.config", nc.dump());
  }
  CHECK(message() == "no error");
  CHECK(nat::transfer::load_exported_subnet(dir, layout).net->dropout_rate == 0.25);

  fresh();  // custom layout not passed: unknown preset
  try {
    nat::transfer::load_exported_subnet(dir);
    CHECK(false);
  } catch (const nat::config_error& e) {
    CHECK(contains(e.what(), "unknown preset \"tiny\""));
  }
  std::system(("rm -rf " + dir).c_str());
}
