#pragma once
/// \file Umbrella header of nat::search: genomes, compile-time and run-time MobileNetV3 search
/// spaces (NAT's 22-integer space and a small-image preset), dedup on phenotypes.
#include "nat/search/choices.hpp"
#include "nat/search/dedup.hpp"
#include "nat/search/dynamic_mbv3_space.hpp"
#include "nat/search/genome.hpp"
#include "nat/search/mbv3_space.hpp"
