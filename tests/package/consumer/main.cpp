// A user's program: includes only the umbrella header and uses a seeded piece of nat.
#include <cstdio>
#include <nat/nat.hpp>

int main() {
  nat::rng a(42), b(42);
  for (int i = 0; i < 10; ++i)
    if (a.next() != b.next()) return 1;
  std::printf("nat consumer ok\n");
  return 0;
}
