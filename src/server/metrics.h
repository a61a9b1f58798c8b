// What the server exposes at GET /metrics, in Prometheus' text format (version 0.0.4): requests
// and errors by operation with latency histograms, and for every delivery task its rows, dirty
// rows, deletes skipped, files and bytes written, lag, memory and error state.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tablelake/delivery.h"

namespace tablelake::server {

class RequestMetrics {
 public:
  // One request of `operation` answered with Tablestore's `error_code` ("" when it succeeded).
  void Observe(const std::string& operation, const std::string& error_code, double seconds);
  void Render(std::string* out) const;

 private:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct Latency {
    std::array<uint64_t, kBounds.size()> buckets{};  // not cumulative; rendered cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;  // (op, code) -> count
  std::map<std::string, Latency> latency_;
};

// Every task of every instance (name, its delivery service), labelled with the instance, table
// and task.
void RenderTaskMetrics(const std::vector<std::pair<std::string, DeliveryService*>>& instances,
                       std::string* out);

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string LabelValue(const std::string& value);

}  // namespace tablelake::server
