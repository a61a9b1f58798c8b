// Progress reporting for long work: a redrawn bar on a terminal, periodic lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tablelake {

class Progress {
 public:
  // `total` in `unit`s (e.g. bytes); 0 when unknown. Writes to `out` (usually stderr). Times
  // from `start` (a command's own start, so that its summary covers all of it).
  Progress(std::string label, uint64_t total, FILE* out = stderr,
           std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());
  // Reports that `done` units and `items` items (e.g. rows) are complete. Cheap to call often.
  void Update(uint64_t done, uint64_t items);
  // Prints the final line: items, seconds, items/s.
  void Finish(uint64_t items, const char* item_name);

 private:
  void Draw(uint64_t done, uint64_t items);

  std::string label_;
  uint64_t total_;
  FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t last_draw_ms_;  // CLOCK_MONOTONIC_COARSE
};

}  // namespace tablelake
