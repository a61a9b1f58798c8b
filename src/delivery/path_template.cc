#include "delivery/path_template.h"

#include "fmt/format.h"

namespace tablelake::delivery {

Result<PathTemplate> PathTemplate::Parse(const std::string& prefix) {
  PathTemplate t;
  // Longest names first: $yyyy before $MM/$mm, and $MM (month) is not $mm (minute).
  static const std::pair<const char*, Part> kVariables[] = {{"$yyyy", Part::kYear},
                                                            {"$MM", Part::kMonth},
                                                            {"$dd", Part::kDay},
                                                            {"$HH", Part::kHour},
                                                            {"$mm", Part::kMinute}};
  std::string text;
  for (size_t i = 0; i < prefix.size();) {
    if (prefix[i] != '$') {
      text.push_back(prefix[i++]);
      continue;
    }
    bool matched = false;
    for (const auto& [name, part] : kVariables) {
      if (prefix.compare(i, std::strlen(name), name) == 0) {
        if (!text.empty()) t.parts_.push_back({Part::kText, std::move(text)});
        text.clear();
        t.parts_.push_back({part, ""});
        t.has_variables_ = true;
        t.has_minutes_ = t.has_minutes_ || part == Part::kMinute;
        i += std::strlen(name);
        matched = true;
        break;
      }
    }
    if (!matched) {
      size_t end = i + 1;
      while (end < prefix.size() && std::isalnum(static_cast<unsigned char>(prefix[end]))) ++end;
      return Status::InvalidArgument(
          fmt::format("prefix '{}': unknown variable '{}'; the variables are $yyyy $MM $dd $HH $mm",
                      prefix, prefix.substr(i, end - i)));
    }
  }
  if (!text.empty()) t.parts_.push_back({Part::kText, std::move(text)});
  if (!prefix.empty() && prefix.front() == '/') {
    return Status::InvalidArgument(fmt::format("prefix '{}' must not start with '/'", prefix));
  }
  if (prefix.find("..") != std::string::npos || prefix.find("//") != std::string::npos) {
    return Status::InvalidArgument(fmt::format("prefix '{}' holds '..' or '//'", prefix));
  }
  return t;
}

std::string PathTemplate::Expand(int64_t utc_ms, const TimeZone& zone) const {
  if (!has_variables_) return parts_.empty() ? "" : parts_[0].second;
  CivilTime c = ToCivil(utc_ms, zone);
  std::string out;
  for (const auto& [part, text] : parts_) {
    switch (part) {
      case Part::kText:
        out += text;
        break;
      case Part::kYear:
        out += fmt::format("{:04d}", c.year);
        break;
      case Part::kMonth:
        out += fmt::format("{:02d}", c.month);
        break;
      case Part::kDay:
        out += fmt::format("{:02d}", c.day);
        break;
      case Part::kHour:
        out += fmt::format("{:02d}", c.hour);
        break;
      case Part::kMinute:
        out += fmt::format("{:02d}", c.minute);
        break;
    }
  }
  return out;
}

std::string PathTemplate::StaticPrefix() const {
  std::string out;
  for (const auto& [part, text] : parts_) {
    if (part != Part::kText) break;
    out += text;
  }
  // Up to the last '/', so that "sample/year=$yyyy" gives "sample/".
  if (has_variables_)
    out = out.substr(0, out.rfind('/') == std::string::npos ? 0 : out.rfind('/') + 1);
  return out;
}

std::string JoinKey(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return prefix.back() == '/' ? prefix + name : prefix + "/" + name;
}

uint32_t PartitionNames::Id(int64_t utc_ms) {
  int64_t block = utc_ms >= 0 ? utc_ms / block_ms_ : (utc_ms + 1) / block_ms_ - 1;
  if (has_last_ && block == last_block_) return last_id_;
  if (window_.empty()) {
    window_.assign(kWindow, 0);
    window_start_ = block - kWindow / 2;
  }
  bool in_window = block >= window_start_ && block - window_start_ < kWindow;
  uint32_t* slot = nullptr;
  if (in_window) {
    slot = &window_[block - window_start_];
  } else if (auto it = outside_.find(block); it != outside_.end()) {
    slot = &it->second;
  }
  if (slot == nullptr || *slot == 0) {
    std::string first = prefix_.Expand(block * block_ms_, zone_);
    if (first != prefix_.Expand(block * block_ms_ + block_ms_ - 1, zone_)) {
      has_last_ = false;
      return Intern(prefix_.Expand(utc_ms, zone_));
    }
    uint32_t id = Intern(std::move(first));
    if (slot == nullptr) {
      if (outside_.size() >= kWindow) outside_.clear();
      slot = &outside_[block];
    }
    *slot = id + 1;
  }
  has_last_ = true;
  last_block_ = block;
  last_id_ = *slot - 1;
  return last_id_;
}

uint32_t PartitionNames::Intern(std::string name) {
  auto [it, added] = ids_.try_emplace(std::move(name), static_cast<uint32_t>(names_.size()));
  if (added) names_.push_back(&it->first);
  return it->second;
}

}  // namespace tablelake::delivery
