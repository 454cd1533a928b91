// The monitoring files shipped in deploy/ (Prometheus alerts, their promtool
// tests, the Grafana dashboard) query only series logguard exports: every
// metric name in them is checked against a scrape of the real Metrics, so a
// renamed or removed metric fails here instead of silencing an operator's
// alert or blanking a panel. (promtool runs the alerts' own tests: CTest's
// promtool_logguard-alerts_test.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/metrics/metrics.h"

namespace logguard {
namespace {

const std::string kDeploy = std::string(LOGGUARD_SOURCE_DIR) + "/deploy";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sample names of a scrape with one container logging (its series exist only
// then): `logguard_sessions`, `logguard_write_duration_seconds_bucket`, ...
std::set<std::string> exported_names() {
  FakeClock clock;
  Metrics metrics(clock);
  auto container = metrics.container(std::string(64, 'a'), "/web");
  // A container that dropped a line: drop series exist from its first drop.
  LimitTotals dropped, published;
  dropped.bytes_dropped = dropped.bytes_dropped_by[0] = 100;
  dropped.lines_dropped = dropped.lines_dropped_by[0] = 1;
  container->publish(dropped, published);
  std::set<std::string> names;
  std::istringstream text(metrics.scrape());
  for (std::string line; std::getline(text, line);) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool is_ident(char c) { return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool is_quote(char c) { return c == '"' || c == '\'' || c == '`'; }

// Index of the quote that closes the string opened at `open`, or the end.
size_t closing_quote(std::string_view s, size_t open) {
  size_t i = open + 1;
  for (; i < s.size() && s[i] != s[open]; ++i) {
    if (s[i] == '\\' && s[open] != '`') ++i;
  }
  return std::min(i, s.size());
}

// Index just past the bracket that closes the one at `open` (strings inside
// skipped), or the end.
size_t past_closing(std::string_view s, size_t open) {
  const char opening = s[open];
  const char closing = opening == '(' ? ')' : opening == '{' ? '}' : ']';
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (is_quote(s[i])) {
      i = closing_quote(s, i);
    } else if (s[i] == opening) {
      ++depth;
    } else if (s[i] == closing && --depth == 0) {
      return i + 1;
    }
  }
  return s.size();
}

// The metric names a PromQL expression selects: identifiers that are not
// functions, aggregations (also as in `sum by (x) (...)`), keywords, label
// names (in {...} and in by/on/... lists), durations, numbers or Grafana's
// $variables.
std::set<std::string> metric_names_in(std::string_view q) {
  static const std::set<std::string> kKeywords = {
      "and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN",
      "by", "without", "on", "ignoring", "group_left", "group_right",
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
      "bottomk", "topk", "quantile"};
  static const std::set<std::string> kLabelLists = {"by", "without", "on", "ignoring",
                                                    "group_left", "group_right"};
  std::set<std::string> names;
  size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if (c == '{' || c == '[') {
      i = past_closing(q, i);
      continue;
    }
    if (is_quote(c)) {
      i = closing_quote(q, i) + 1;
      continue;
    }
    if (c == '$') {
      ++i;
      if (i < q.size() && q[i] == '{') i = past_closing(q, i);
      while (i < q.size() && is_ident(q[i])) ++i;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      while (i < q.size() && (is_ident(q[i]) || q[i] == '.')) ++i;
      continue;
    }
    if (!is_ident_start(c)) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < q.size() && is_ident(q[i])) ++i;
    const std::string word(q.substr(start, i - start));
    size_t next = i;
    while (next < q.size() && std::isspace(static_cast<unsigned char>(q[next]))) ++next;
    const bool call = next < q.size() && q[next] == '(';
    if (kLabelLists.count(word) && call) {
      i = past_closing(q, next);
    } else if (!call && !kKeywords.count(word)) {
      names.insert(word);
    }
  }
  return names;
}

// The values of `key:` in a YAML text (as a mapping key, or first in a list
// item): plain or quoted on its line, or a block scalar (| or >) on the more
// indented lines below. Enough for the files in deploy/, not YAML at large.
std::vector<std::string> yaml_values(const std::string& text, const std::string& key) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<std::string> values;
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    size_t at = indent;
    if (line.compare(at, 2, "- ") == 0) at += 2;
    if (line.compare(at, key.size() + 1, key + ":") != 0) continue;
    std::string value = line.substr(at + key.size() + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (!value.empty() && (value[0] == '|' || value[0] == '>')) {
      value.clear();
      while (n + 1 < lines.size() &&
             (lines[n + 1].find_first_not_of(' ') == std::string::npos ||
              lines[n + 1].find_first_not_of(' ') > indent)) {
        value += lines[++n] + "\n";
      }
    } else if (!value.empty() && (value[0] == '\'' || value[0] == '"')) {
      value = value.substr(1, value.find(value[0], 1) - 1);
    } else if (size_t comment = value.find(" #"); comment != std::string::npos) {
      value.erase(comment);
    }
    values.push_back(value);
  }
  return values;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// Every expression selects something, and only series logguard exports.
void expect_exported(const std::vector<std::string>& expressions, const std::string& where) {
  static const std::set<std::string> kExported = exported_names();
  for (const std::string& expr : expressions) {
    const std::set<std::string> names = metric_names_in(expr);
    EXPECT_FALSE(names.empty()) << where << ": selects no metric: " << expr;
    for (const std::string& name : names) {
      EXPECT_TRUE(kExported.count(name)) << where << ": " << name << " is not exported: " << expr;
    }
  }
}

TEST(Deploy, TheScrapeHasTheSeriesTheFilesAreCheckedAgainst) {
  const std::set<std::string> names = exported_names();
  for (const char* name :
       {"logguard_sessions", "logguard_container_dropped_bytes_total",
        "logguard_container_written_bytes_total", "logguard_node_write_budget_bytes_per_second",
        "logguard_disk_probe_duration_seconds_bucket", "logguard_container_disk_bytes"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

TEST(Deploy, MetricNamesAreFoundInPromQlAndNothingElse) {
  EXPECT_EQ(metric_names_in(
                "histogram_quantile(0.9, sum by (instance, le) (rate(a_bucket{le=\"0.5\", "
                "x=~\"b|c}\"}[5m]))) > 0.5 and on (instance) b offset 5m"),
            (std::set<std::string>{"a_bucket", "b"}));
  EXPECT_EQ(metric_names_in("sum(rate(x[$__rate_interval])) by (job) / ignoring(le) y > bool 1e3"),
            (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(metric_names_in("max without (a) (x) and on (b) count by (c) (y{d=\"e\"})"),
            (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(metric_names_in("topk(10, z{instance=~\"$instance\"}) * on(a) group_left(b) w"),
            (std::set<std::string>{"z", "w"}));
  EXPECT_EQ(metric_names_in("max_over_time(up[${__range}]) or vector(0)"),
            (std::set<std::string>{"up"}));
}

TEST(Deploy, AlertRulesQueryOnlyExportedMetrics) {
  const std::string rules = read_text(kDeploy + "/prometheus/logguard-alerts.yml");
  const std::vector<std::string> exprs = yaml_values(rules, "expr");
  EXPECT_EQ(exprs.size(), count_of(rules, "- alert:")) << "an alert whose expr was not found";
  EXPECT_GE(exprs.size(), 5u);
  expect_exported(exprs, "logguard-alerts.yml");
}

TEST(Deploy, AlertTestsFeedSeriesNamedAsExported) {
  const std::string tests = read_text(kDeploy + "/prometheus/logguard-alerts_test.yml");
  const std::vector<std::string> series = yaml_values(tests, "series");
  EXPECT_GE(series.size(), 10u);
  expect_exported(series, "logguard-alerts_test.yml");
}

// Expressions of the panels (targets' expr) and of the query variables
// (Grafana's label_values(<selector>, <label>): its selector).
std::vector<std::string> dashboard_queries(const nlohmann::json& dashboard) {
  std::vector<std::string> exprs;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& node) {
    if (node.is_object()) {
      for (const auto& [key, value] : node.items()) {
        if (key == "expr" && value.is_string()) exprs.push_back(value.get<std::string>());
        walk(value);
      }
    } else if (node.is_array()) {
      for (const auto& item : node) walk(item);
    }
  };
  walk(dashboard.at("panels"));
  static const std::regex kLabelValues(R"(^\s*label_values\((.*),\s*[A-Za-z_]\w*\s*\)\s*$)");
  for (const auto& variable : dashboard.at("templating").at("list")) {
    if (variable.at("type") != "query") continue;
    const auto& query = variable.at("query");
    const std::string text =
        query.is_string() ? query.get<std::string>() : query.at("query").get<std::string>();
    std::smatch m;
    exprs.push_back(std::regex_match(text, m, kLabelValues) ? m[1].str() : text);
  }
  return exprs;
}

TEST(Deploy, DashboardIsJsonAndQueriesOnlyExportedMetrics) {
  const std::string path = kDeploy + "/grafana/logguard-dashboard.json";
  nlohmann::json dashboard;
  ASSERT_NO_THROW(dashboard = nlohmann::json::parse(read_text(path))) << path;
  EXPECT_EQ(dashboard.at("uid"), "logguard");
  for (const auto& panel : dashboard.at("panels")) {
    if (panel.at("type") == "row") continue;
    EXPECT_FALSE(panel.at("targets").empty()) << panel.at("title");
    EXPECT_TRUE(panel.contains("gridPos")) << panel.at("title");
  }
  const std::vector<std::string> exprs = dashboard_queries(dashboard);
  expect_exported(exprs, "logguard-dashboard.json");
  // What it is for: per-container drops and writes, the node budget, probe
  // latency and disk use.
  std::string all;
  for (const auto& e : exprs) all += e + "\n";
  for (const char* shown :
       {"logguard_container_dropped_bytes_total", "logguard_container_written_bytes_total",
        "logguard_node_write_budget_bytes_per_second",
        "logguard_disk_probe_duration_seconds_bucket", "logguard_container_disk_bytes"}) {
    EXPECT_NE(all.find(shown), std::string::npos) << shown;
  }
}

}  // namespace
}  // namespace logguard
