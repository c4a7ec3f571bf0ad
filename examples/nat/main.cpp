// `nat`: the command-line front end of the library. Each subcommand is a function in its own
// cmd_<name>.cpp; adding one (search, train, evaluate, export, ...) means writing that file
// and adding a row to `commands` below.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli.hpp"
#include "nat/core/error.hpp"

namespace nat_cli {
int run_info(const std::vector<std::string>& args);
int run_search(const std::vector<std::string>& args);
int run_train_supernet(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_evaluate(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
}  // namespace nat_cli

namespace {

const nat_cli::command commands[] = {
    {"search", "NAT on a dataset: a Pareto front of ready-to-use subnets", nat_cli::run_search},
    {"train-supernet", "warm a supernet up on a dataset (largest, sort, supernet + KD)",
     nat_cli::run_train_supernet},
    {"train", "train one fixed subnet from scratch: the baseline for NAT's subnets",
     nat_cli::run_train},
    {"evaluate", "top-1 accuracy of an exported subnet or of a supernet's subnet",
     nat_cli::run_evaluate},
    {"export", "one subnet of a supernet as a directory (weights, net.config, subnet.json)",
     nat_cli::run_export},
    {"info", "architecture, MACs, parameters and search-space size of a subnet", nat_cli::run_info},
};

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "usage: nat <command> [options]\n\n"
               "Neural Architecture Transfer: search, train and inspect elastic MobileNetV3 "
               "subnets.\n\ncommands:\n");
  for (const auto& c : commands) std::fprintf(to, "  %-16s%s\n", c.name, c.summary);
  std::fprintf(to, "\n`nat <command> --help` describes a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  for (const auto& c : commands) {
    if (name != c.name) continue;
    std::vector<std::string> args(argv + 2, argv + argc);
    try {
      return c.run(args);
    } catch (const nat_cli::usage_error& e) {
      std::fprintf(stderr, "nat %s: %s\n", c.name, e.what());
    } catch (const nat::error& e) {
      std::fprintf(stderr, "nat %s: %s\n", c.name, e.what());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "nat %s: unexpected error: %s\n", c.name, e.what());
    }
    return 2;
  }
  std::fprintf(stderr, "nat: unknown command \"%s\" (try nat --help)\n", name.c_str());
  return 2;
}
