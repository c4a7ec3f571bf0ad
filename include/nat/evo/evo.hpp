#pragma once
/// \file Umbrella header of nat::evo: dominance, non-dominated sorting, crowding, reference
/// directions, operators, GA / NSGA-II / NSGA-III and the ZDT / DTLZ test problems.
#include "nat/evo/algorithm.hpp"
#include "nat/evo/crossover.hpp"
#include "nat/evo/crowding_distance.hpp"
#include "nat/evo/dominance.hpp"
#include "nat/evo/ga.hpp"
#include "nat/evo/mutation.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/evo/nsga2.hpp"
#include "nat/evo/nsga3.hpp"
#include "nat/evo/population.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/reference_directions.hpp"
#include "nat/evo/sampling.hpp"
#include "nat/evo/test_problems.hpp"
