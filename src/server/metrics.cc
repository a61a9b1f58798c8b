#include "server/metrics.h"

#include <algorithm>

#include "fmt/format.h"
#include "server/wire_service.h"

namespace tablelake::server {

std::string LabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void RequestMetrics::Observe(const std::string& operation, const std::string& error_code,
                             double seconds) {
  // Paths nobody serves count as one: a series per made-up path would let any client grow the
  // metrics without bound.
  const auto& served = WireService::Operations();
  std::string op = std::find(served.begin(), served.end(), operation) != served.end()
                       ? operation
                       : "unsupported";
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{op, error_code}];
  Latency& l = latency_[op];
  size_t b = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  if (b < kBounds.size()) ++l.buckets[b];
  ++l.count;
  l.sum += seconds;
}

void RequestMetrics::Render(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  *out +=
      "# HELP tablelake_requests_total Wire requests answered, by operation and Tablestore error "
      "code (empty when it succeeded).\n# TYPE tablelake_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    *out += fmt::format("tablelake_requests_total{{op=\"{}\",code=\"{}\"}} {}\n",
                        LabelValue(key.first), LabelValue(key.second), n);
  }
  *out +=
      "# HELP tablelake_request_seconds Time to answer a wire request, by operation.\n"
      "# TYPE tablelake_request_seconds histogram\n";
  for (const auto& [op, l] : latency_) {
    std::string name = LabelValue(op);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
      cumulative += l.buckets[i];
      *out += fmt::format("tablelake_request_seconds_bucket{{op=\"{}\",le=\"{}\"}} {}\n", name,
                          kBounds[i], cumulative);
    }
    *out += fmt::format("tablelake_request_seconds_bucket{{op=\"{}\",le=\"+Inf\"}} {}\n", name,
                        l.count);
    *out += fmt::format("tablelake_request_seconds_sum{{op=\"{}\"}} {}\n", name, l.sum);
    *out += fmt::format("tablelake_request_seconds_count{{op=\"{}\"}} {}\n", name, l.count);
  }
}

void RenderTaskMetrics(const std::vector<std::pair<std::string, DeliveryService*>>& instances,
                       std::string* out) {
  struct Series {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const DeliveryTaskStatus&);
  };
  static const Series kSeries[] = {
      {"tablelake_delivery_rows_total", "counter", "Rows delivered.",
       [](const DeliveryTaskStatus& s) { return double(s.rows_delivered); }},
      {"tablelake_delivery_dirty_rows_total", "counter", "Rows that did not fit their columns.",
       [](const DeliveryTaskStatus& s) { return double(s.dirty_rows); }},
      {"tablelake_delivery_deletes_skipped_total", "counter", "Deletes not delivered.",
       [](const DeliveryTaskStatus& s) { return double(s.deletes_skipped); }},
      {"tablelake_delivery_files_total", "counter", "Parquet files written.",
       [](const DeliveryTaskStatus& s) { return double(s.files_written); }},
      {"tablelake_delivery_bytes_total", "counter", "Parquet bytes written.",
       [](const DeliveryTaskStatus& s) { return double(s.bytes_written); }},
      {"tablelake_delivery_lag_seconds", "gauge",
       "Now minus the time up to which every write is delivered.",
       [](const DeliveryTaskStatus& s) { return s.lag_ms / 1000.0; }},
      {"tablelake_delivery_memory_bytes", "gauge", "Delivery memory the task holds now.",
       [](const DeliveryTaskStatus& s) { return double(s.memory_bytes); }},
      {"tablelake_delivery_error", "gauge", "1 while the task reports an error (code label).",
       [](const DeliveryTaskStatus& s) { return s.error_code.empty() ? 0.0 : 1.0; }},
  };
  std::vector<std::pair<std::string, DeliveryTaskStatus>> statuses;
  for (const auto& [instance, delivery] : instances) {
    auto tasks = delivery->ListDeliveryTask("");
    if (!tasks.ok()) continue;
    for (const auto& t : *tasks) {
      auto d = delivery->DescribeDeliveryTask(t.table, t.name);
      if (!d.ok()) continue;
      statuses.push_back(
          {fmt::format("instance=\"{}\",table=\"{}\",task=\"{}\"", LabelValue(instance),
                       LabelValue(t.table), LabelValue(t.name)),
           d->status});
    }
  }
  for (const Series& series : kSeries) {
    *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", series.name, series.help, series.name,
                        series.type);
    for (const auto& [labels, status] : statuses) {
      std::string extra = std::string(series.name) == "tablelake_delivery_error"
                              ? fmt::format(",code=\"{}\"", LabelValue(status.error_code))
                              : "";
      *out += fmt::format("{}{{{}{}}} {}\n", series.name, labels, extra, series.value(status));
    }
  }
}

}  // namespace tablelake::server
