#include "cli/cli_util.h"

#include <cstdio>
#include <regex>

#include "fmt/format.h"
#include "store/row_json.h"

namespace tablelake::cli {

Result<std::unique_ptr<TableStore>> OpenStore(const GlobalOptions& g) {
  return TableStore::Open(g.data_dir);
}

Result<nlohmann::json> ParseJsonArgument(const std::string& what, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::InvalidArgument(fmt::format("{} is not valid JSON: {}", what, text));
  }
  return j;
}

Result<std::optional<Filter>> ParseConditions(const std::vector<std::string>& conditions) {
  static const std::regex kCondition(
      R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|>=|<=|=|>|<)\s*(.+?)\s*$)");
  std::vector<Filter> filters;
  for (const auto& text : conditions) {
    std::smatch m;
    if (!std::regex_match(text, m, kCondition)) {
      return Status::InvalidArgument(fmt::format(
          "condition '{}' is not 'COLUMN OP VALUE' with OP one of = != > >= < <=", text));
    }
    static const std::map<std::string, Comparator> kOps = {
        {"=", Comparator::kEqual},       {"!=", Comparator::kNotEqual},
        {">", Comparator::kGreaterThan}, {">=", Comparator::kGreaterEqual},
        {"<", Comparator::kLessThan},    {"<=", Comparator::kLessEqual}};
    TL_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonArgument("condition value", m[3].str()));
    TL_ASSIGN_OR_RETURN(Value v, store::ValueFromJson(j, m[1].str()));
    filters.push_back(Filter::Compare(m[1].str(), kOps.at(m[2].str()), std::move(v),
                                      /*pass_if_missing=*/false));
  }
  if (filters.empty()) return std::optional<Filter>();
  if (filters.size() == 1) return std::optional<Filter>(std::move(filters[0]));
  return std::optional<Filter>(Filter::Combine(LogicalOp::kAnd, std::move(filters)));
}

Result<RowExistence> ParseExistence(const std::string& text) {
  if (text == "ignore") return RowExistence::kIgnore;
  if (text == "exist") return RowExistence::kExpectExist;
  if (text == "not-exist") return RowExistence::kExpectNotExist;
  return Status::InvalidArgument(
      fmt::format("--expect takes ignore, exist or not-exist, got '{}'", text));
}

void AddGlobalOptions(CLI::App* app, GlobalOptions* g) {
  app->add_option("--data", g->data_dir, "data folder (default ./tablelake-data)");
}

void PrintJsonLine(const nlohmann::ordered_json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  s.push_back('\n');
  std::fwrite(s.data(), 1, s.size(), stdout);
}

}  // namespace tablelake::cli
