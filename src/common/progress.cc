#include "common/progress.h"

#include <time.h>
#include <unistd.h>

namespace tablelake {
namespace {

// The redraw throttle's clock: a coarse one is a memory read, where a load calls Update for
// every row (the precise clock was 1% of a load's samples).
int64_t CoarseMillis() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total, FILE* out,
                   std::chrono::steady_clock::time_point start)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      tty_(isatty(fileno(out)) != 0),
      start_(start),
      last_draw_ms_(CoarseMillis()) {}

void Progress::Update(uint64_t done, uint64_t items) {
  const int64_t now_ms = CoarseMillis();
  // Redraw a terminal bar 5 times a second; log a line every 5 s when not on a terminal.
  if (now_ms - last_draw_ms_ < (tty_ ? 200 : 5000)) return;
  last_draw_ms_ = now_ms;
  Draw(done, items);
}

void Progress::Draw(uint64_t done, uint64_t items) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = secs > 0 ? items / secs : 0;
  if (tty_ && total_ > 0) {
    constexpr int kWidth = 30;
    double frac = done >= total_ ? 1.0 : static_cast<double>(done) / total_;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::fprintf(out_, "\r%s [%s] %5.1f%% %llu rows %.0f rows/s", label_.c_str(), bar.c_str(),
                 frac * 100, static_cast<unsigned long long>(items), rate);
  } else {
    std::fprintf(out_, "%s%s: %llu rows, %.0f rows/s\n", tty_ ? "\r" : "", label_.c_str(),
                 static_cast<unsigned long long>(items), rate);
  }
  std::fflush(out_);
}

void Progress::Finish(uint64_t items, const char* item_name) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) std::fprintf(out_, "\r\033[K");
  std::string name = item_name;  // "rows", "rows scanned": "1 row", "1 row scanned"
  if (items == 1 && name.rfind("rows", 0) == 0) name.erase(3, 1);
  std::fprintf(out_, "%s: %llu %s in %.2f s (%.0f %s/s)\n", label_.c_str(),
               static_cast<unsigned long long>(items), name.c_str(), secs,
               secs > 0 ? items / secs : 0.0, item_name);
  std::fflush(out_);
}

}  // namespace tablelake
