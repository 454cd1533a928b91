#include "logguard/config/container_attrs.h"

#include <gtest/gtest.h>

#include <string>

#include "logguard/config/options.h"
#include "logguard/format/json_record_parser.h"
#include "nginx_container.h"

namespace logguard {
namespace {

std::string hostname() { return "vm"; }

std::string error_of(const ContainerInfo& info) {
  try {
    container_attrs(info, hostname);
  } catch (const OptionError& e) {
    return e.what();
  }
  return "no error";
}

// The attrs object as it appears in a record.
std::string attrs_json(const Attrs& attrs) {
  std::string line;
  RecordView record;
  record.attrs = &attrs;
  append_json_record(line, record);
  const size_t start = line.find("\"attrs\":");
  if (start == std::string::npos) return "";
  return line.substr(start + 8, line.rfind(",\"time\"") - start - 8);
}

// A container as Engine 20.10 describes it (the values of a real one).
ContainerInfo container(std::string id, std::string name, std::string created) {
  ContainerInfo info;
  info.id = std::move(id);
  info.name = std::move(name);
  info.entrypoint = "sh";
  info.args = {"-c", "echo hi; echo there >&2"};
  info.image_id = "sha256:7017f559a0d8f1d1c3d62fbb8aa62148c02cc4dfaac4852f203602cccc5e1ce0";
  info.image_name = "lgtest-busybox";
  info.created = std::move(created);
  info.daemon_name = "docker";
  return info;
}

// A record with our attrs in place of those of a line json-file wrote must be
// that line, byte for byte.
void expect_same_line_as_json_file(const ContainerInfo& info, const std::string& json_file_line) {
  const auto record = parse_json_record(json_file_line);
  ASSERT_TRUE(record) << json_file_line;
  const Attrs attrs = container_attrs(info, hostname);
  RecordView view;
  view.log = record->log;
  view.stream = record->stream;
  view.time_nanos = record->time_nanos;
  view.attrs = attrs.empty() ? nullptr : &attrs;
  std::string ours;
  append_json_record(ours, view);
  EXPECT_EQ(ours, json_file_line + "\n");
}

// Golden lines: Docker 20.10.24 (Debian's docker.io) with its json-file driver,
// on a private engine (scripts/dockerd.sh) with a busybox image imported as
// lgtest-busybox, from
//   docker run --name NAME --log-driver json-file [--label K=V]... [-e E]...
//     [--log-opt K=V]... lgtest-busybox sh -c 'echo hi; echo there >&2'
// then the first line of <data-root>/containers/<id>/<id>-json.log; the Info
// fields from `docker inspect` (Id, Name, Path, Args, Image, Created,
// Config.Env, Config.Labels, HostConfig.LogConfig.Config).

TEST(ContainerAttrs, GoldenRequestExample) {
  // --label team=pay --log-opt labels=team -e APP=x --log-opt env=APP --log-opt tag='{{.Name}}'
  ContainerInfo info =
      container("ecec8c74ae0b396eaed062fe65ad64fbb7d920180e15c9bf8abac215851dd369",
                "/golden-example", "2026-12-01T03:03:40.988063759Z");
  info.env = {"APP=x"};
  info.labels = {{"team", "pay"}};
  info.log_opts = {{"env", "APP"}, {"labels", "team"}, {"tag", "{{.Name}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"there\n","stream":"stderr","attrs":{"APP":"x","tag":"golden-example","team":"pay"},"time":"2026-12-01T03:03:42.034842342Z"})");
}

TEST(ContainerAttrs, GoldenEveryField) {
  ContainerInfo info =
      container("1d5b3bb8d6c6cc4136f023afb924b7265a615eeb139ed4b2d3c706eb4b78e113",
                "/golden-fields", "2026-12-01T03:03:43.2744377Z");
  info.env = {"A=1"};
  info.log_opts = {
      {"tag",
       "{{.ID}} {{.FullID}} {{.Name}} {{.ImageID}} {{.ImageFullID}} {{.ImageName}} "
       "{{.DaemonName}} {{.Command}} {{.ContainerName}} {{.ContainerCreated}} "
       "{{json .ContainerCreated}} {{json .ContainerArgs}} {{json .ContainerEnv}} "
       "{{.ContainerEntrypoint}} {{.ContainerImageName}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"tag":"1d5b3bb8d6c6 1d5b3bb8d6c6cc4136f023afb924b7265a615eeb139ed4b2d3c706eb4b78e113 golden-fields sha256:7017f sha256:7017f559a0d8f1d1c3d62fbb8aa62148c02cc4dfaac4852f203602cccc5e1ce0 lgtest-busybox docker sh -c echo hi; echo there \u003e\u00262 /golden-fields 2026-12-01 03:03:43.2744377 +0000 UTC \"2026-12-01T03:03:43.2744377Z\" [\"-c\",\"echo hi; echo there \u003e\u00262\"] [\"A=1\"] sh lgtest-busybox"},"time":"2026-12-01T03:03:44.471286003Z"})");
}

TEST(ContainerAttrs, GoldenFunctions) {
  ContainerInfo info =
      container("5c31dab4ae984f0ca352c52f7477d2142ac94665f52ba3cce659546e73eadca4",
                "/golden-functions", "2026-12-01T03:03:45.409588986Z");
  info.labels = {{"com.example.tier", "front end"}, {"v", "héllo\twörld <b>&"}};
  info.log_opts = {
      {"tag",
       "{{upper .Name}}/{{truncate .ID 6}}/{{pad .ImageName 1 2}}|{{json .ContainerLabels}}|"
       "{{title \"hello wORLD foo_bar x-y\"}}|{{join (split .Name \"-\") \".\"}}|"
       "{{lower \"ABC\"}}|{{index .ContainerLabels \"v\" | upper}}|{{split .Name \"\"}}|"
       "{{len .Name}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"there\n","stream":"stderr","attrs":{"tag":"GOLDEN-FUNCTIONS/5c31da/ lgtest-busybox  |{\"com.example.tier\":\"front end\",\"v\":\"héllo\\twörld \u003cb\u003e\u0026\"}|Hello WORLD Foo_bar X-Y|golden.functions|abc|HÉLLO\tWÖRLD \u003cB\u003e\u0026|[g o l d e n - f u n c t i o n s]|16"},"time":"2026-12-01T03:03:46.731259596Z"})");
}

TEST(ContainerAttrs, GoldenRegexes) {
  ContainerInfo info =
      container("85e07909e436659ea767c0803f7a9f7689eb97ee1d654bfb9a65d5e8b912f41a",
                "/golden-regexes", "2026-12-01T03:03:47.806294655Z");
  info.env = {"LOG_LEVEL=debug", "LOG_FMT=", "OTHER=1", "XLOG_=y"};
  info.labels = {{"com.example.owner", "ops <team>"},
                 {"com.example.tier", "front"},
                 {"example", "no"},
                 {"other", "x"}};
  info.log_opts = {{"env-regex", "^LOG_|_$"}, {"labels-regex", R"(^com\.example\.)"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"LOG_FMT":"","LOG_LEVEL":"debug","XLOG_":"y","com.example.owner":"ops \u003cteam\u003e","com.example.tier":"front"},"time":"2026-12-01T03:03:48.636412641Z"})");
}

TEST(ContainerAttrs, GoldenEnvValues) {
  // -e EMPTY= -e LG_ATTRS_UNSET_VAR (not set in the client) -e SET=a=b=c
  ContainerInfo info =
      container("2063f7c2679839f8596b7e50e735bafe27c01b8f3202a01ba5c3a851d7f4508f",
                "/golden-env-values", "2026-12-01T03:03:49.65681865Z");
  info.env = {"LG_ATTRS_UNSET_VAR", "SET=a=b=c", "EMPTY="};
  info.log_opts = {{"env", "EMPTY,LG_ATTRS_UNSET_VAR,MISSING,SET"},
                   {"tag", "{{json .ContainerEnv}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"EMPTY":"","SET":"a=b=c","tag":"[\"LG_ATTRS_UNSET_VAR\",\"SET=a=b=c\",\"EMPTY=\"]"},"time":"2026-12-01T03:03:50.874146625Z"})");
}

TEST(ContainerAttrs, GoldenPrecedence) {
  ContainerInfo info =
      container("5b1d2c7092cae492bf032642522e60142af37e88716563df20c370d8b5648ee3",
                "/golden-precedence", "2026-12-01T03:03:51.861226346Z");
  info.env = {"only2=env", "dup=from-env"};
  info.labels = {{"dup", "from-label"}, {"only", "label"}, {"tag", "label-tag"}};
  info.log_opts = {{"env", "dup,only2"},
                   {"env-regex", "^du"},
                   {"labels", "dup,tag,only"},
                   {"labels-regex", "^d"},
                   {"tag", "{{.ImageName}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"dup":"from-env","only":"label","only2":"env","tag":"lgtest-busybox"},"time":"2026-12-01T03:03:53.094544575Z"})");
}

TEST(ContainerAttrs, GoldenEmptyTagKeepsLabelNamedTag) {
  ContainerInfo info =
      container("cf479246e245220fff58a5fb987e1757151f80b1a9be2755ccfa6ac74d45a2fd",
                "/golden-empty-tag", "2026-12-01T03:03:54.186826369Z");
  info.labels = {{"tag", "label-tag"}};
  info.log_opts = {{"labels", "tag"}, {"tag", "{{if false}}x{{end}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"tag":"label-tag"},"time":"2026-12-01T03:03:55.08165585Z"})");
}

TEST(ContainerAttrs, GoldenTemplateLanguage) {
  ContainerInfo info =
      container("651b989033a7732765255862bcdf4f000cabfa07ee8fe038e78a8d32d9f50d40",
                "/golden-template-language", "2026-12-01T03:03:55.943856015Z");
  info.env = {"SOME_ENV_VAR=logtester.1234"};
  info.labels = {{"team", "pay"}, {"zone", "eu"}};
  info.log_opts = {
      {"env", "SOME_ENV_VAR"},
      {"tag",
       "{{ (.ExtraAttributes nil).SOME_ENV_VAR }}|"
       "{{range $k, $v := .ContainerLabels}}{{$k}}={{$v}};{{end}}|"
       "{{with .ContainerLabels.nope}}x{{else}}none{{end}}|{{- $n := .Name -}} {{ $n }} |"
       "{{if eq .ContainerLabels.zone \"eu\"}}EU{{end}}|{{.ContainerLabels.missing}}|"
       "{{\"{{\"}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"SOME_ENV_VAR":"logtester.1234","tag":"logtester.1234|team=pay;zone=eu;|none|golden-template-language |EU|\u003cno value\u003e|{{"},"time":"2026-12-01T03:03:56.796263897Z"})");
}

TEST(ContainerAttrs, GoldenEscaping) {
  ContainerInfo info =
      container("e6d7390ac4853e3c3adfe8d384594bccca75e89b14394a349dd83544f9cb96df",
                "/golden-escaping", "2026-12-01T03:04:01.813263563Z");
  info.labels = {{"a.b-c_d", "quote\" back\\ nl\nend"}, {"unicode", "é\u2028日"}};
  info.log_opts = {{"labels", "a.b-c_d,unicode,nope,,"}, {"tag", "<{{.Name}}>&"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"a.b-c_d":"quote\" back\\ nl\nend","tag":"\u003cgolden-escaping\u003e\u0026","unicode":"é\u2028日"},"time":"2026-12-01T03:04:03.139442209Z"})");
}

TEST(ContainerAttrs, GoldenHostname) {
  // dockerd ran on a host named "vm".
  ContainerInfo info =
      container("43e4ec5d7b838e2f7b52f5f17e811447da9729ed940cdef2a9c2069de0fb25ed",
                "/golden-hostname", "2026-12-01T03:03:58.743070916Z");
  info.log_opts = {{"tag", "{{.Hostname}}"}};
  expect_same_line_as_json_file(
      info,
      R"({"log":"hi\n","stream":"stdout","attrs":{"tag":"vm"},"time":"2026-12-01T03:04:00.27167922Z"})");
}

// ---- rules, one at a time ----

ContainerInfo info_with(std::map<std::string, std::string> log_opts) {
  ContainerInfo info = container(std::string(64, 'a'), "/app", "2026-01-02T03:04:05Z");
  info.labels = {{"team", "pay"}, {"tier", "front"}, {"com.x.a", "1"}, {"com.x.b", "2"},
                 {"shared", "label"}};
  info.env = {"PATH=/bin", "APP=x", "EMPTY=", "NOVALUE", "shared=env", "DUP=1", "DUP=2"};
  info.log_opts = std::move(log_opts);
  return info;
}

Attrs attrs_of(std::map<std::string, std::string> log_opts) {
  return container_attrs(info_with(std::move(log_opts)), hostname);
}

TEST(ContainerAttrs, NothingWithoutOptions) {
  EXPECT_TRUE(attrs_of({}).empty());
  EXPECT_TRUE(attrs_of({{"max-size", "10m"}, {"labels", ""}, {"tag", ""}}).empty());
}

TEST(ContainerAttrs, LabelsAreNamedExactly) {
  EXPECT_EQ(attrs_of({{"labels", "team,tier"}}), (Attrs{{"team", "pay"}, {"tier", "front"}}));
  // No trimming: " tier" is not "tier"; empty items and unknown names select nothing.
  EXPECT_EQ(attrs_of({{"labels", "team, tier,,nope,"}}), (Attrs{{"team", "pay"}}));
}

TEST(ContainerAttrs, RegexesSearchAnywhere) {
  // Go's MatchString finds a match anywhere in the name.
  EXPECT_EQ(attrs_of({{"labels-regex", "x\\."}}), (Attrs{{"com.x.a", "1"}, {"com.x.b", "2"}}));
  EXPECT_EQ(attrs_of({{"labels-regex", "^t"}}), (Attrs{{"team", "pay"}, {"tier", "front"}}));
  EXPECT_EQ(attrs_of({{"env-regex", "P"}}), (Attrs{{"APP", "x"}, {"DUP", "2"}, {"EMPTY", ""},
                                                    {"PATH", "/bin"}}));
  EXPECT_EQ(attrs_of({{"env-regex", "(?i)^app$"}}), (Attrs{{"APP", "x"}}));
}

TEST(ContainerAttrs, EnvironmentValues) {
  // "EMPTY=" is an empty value; "NOVALUE" (no '=') is no variable; a later
  // duplicate wins; only the first '=' splits.
  ContainerInfo info = info_with({{"env", "EMPTY,NOVALUE,DUP,MISSING,EQ"}});
  info.env.push_back("EQ=a=b");
  EXPECT_EQ(container_attrs(info, hostname),
            (Attrs{{"DUP", "2"}, {"EMPTY", ""}, {"EQ", "a=b"}}));
}

TEST(ContainerAttrs, LaterSourcesWinClashes) {
  // labels < labels-regex < env < env-regex < tag; on a clash of names the
  // value of the later source stays.
  EXPECT_EQ(attrs_of({{"labels", "shared"}, {"env", "shared"}}), (Attrs{{"shared", "env"}}));
  EXPECT_EQ(attrs_of({{"labels-regex", "^sh"}, {"env", "shared"}}), (Attrs{{"shared", "env"}}));
  EXPECT_EQ(attrs_of({{"labels", "shared"}, {"env-regex", "^shared$"}}),
            (Attrs{{"shared", "env"}}));
  ContainerInfo info = info_with({{"labels", "tag"}, {"env", "tag"}, {"tag", "{{.Name}}"}});
  info.labels["tag"] = "from-label";
  info.env.push_back("tag=from-env");
  EXPECT_EQ(container_attrs(info, hostname), (Attrs{{"tag", "app"}}));
  info.log_opts["tag"] = "{{/* renders empty */}}";
  EXPECT_EQ(container_attrs(info, hostname), (Attrs{{"tag", "from-env"}}));
}

TEST(ContainerAttrs, KeysSortedByBytes) {
  ContainerInfo info = info_with({{"labels-regex", "."}});
  info.labels = {{"b", "1"}, {"B", "2"}, {"a.b", "3"}, {"_", "4"}, {"é", "5"}, {"Z", "6"}};
  EXPECT_EQ(attrs_json(container_attrs(info, hostname)),
            R"({"B":"2","Z":"6","_":"4","a.b":"3","b":"1","é":"5"})");
}

TEST(ContainerAttrs, TagOnlyWhenSet) {
  // json-file has no default tag: without the option there is none.
  EXPECT_EQ(attrs_of({{"labels", "team"}}), (Attrs{{"team", "pay"}}));
  EXPECT_EQ(attrs_of({{"tag", "static"}}), (Attrs{{"tag", "static"}}));
  EXPECT_EQ(attrs_of({{"tag", "{{.ID}}"}}), (Attrs{{"tag", "aaaaaaaaaaaa"}}));
}

TEST(ContainerAttrs, TagSeesExtraAttributes) {
  EXPECT_EQ(attrs_of({{"env", "APP"}, {"tag", "{{(.ExtraAttributes nil).APP}}"}}),
            (Attrs{{"APP", "x"}, {"tag", "x"}}));
}

TEST(ContainerAttrs, BadRegexNamesTheOption) {
  EXPECT_EQ(error_of(info_with({{"labels-regex", "("}})),
            "logguard: invalid labels-regex \"(\": missing ): (");
  EXPECT_EQ(error_of(info_with({{"env-regex", "[a"}})),
            "logguard: invalid env-regex \"[a\": missing ]: [a");
  // Perl syntax Go's regexp lacks, and \C, which RE2 has and Go refuses.
  EXPECT_EQ(error_of(info_with({{"labels-regex", "a(?=b)"}})),
            "logguard: invalid labels-regex \"a(?=b)\": invalid perl operator: (?=");
  EXPECT_EQ(error_of(info_with({{"env-regex", R"(x\C)"}})),
            R"(logguard: invalid env-regex "x\C": invalid escape sequence: \C)");
  // \Q...\E quotes a literal \C.
  EXPECT_EQ(error_of(info_with({{"env-regex", R"(\Q\C\E)"}})), "no error");
}

TEST(ContainerAttrs, BadRegexFailsEvenWithNothingToMatch) {
  // Engine 20.10 compiles env-regex even for a container without environment.
  ContainerInfo info = info_with({{"env-regex", "("}});
  info.env.clear();
  info.labels.clear();
  EXPECT_EQ(error_of(info), "logguard: invalid env-regex \"(\": missing ): (");
}

TEST(ContainerAttrs, FirstErrorIsReported) {
  // Go's order: labels-regex, env-regex, then the tag.
  EXPECT_EQ(error_of(info_with({{"env-regex", "("}, {"labels-regex", "["}, {"tag", "{{"}})),
            "logguard: invalid labels-regex \"[\": missing ]: [");
  EXPECT_EQ(error_of(info_with({{"env-regex", "("}, {"tag", "{{"}})),
            "logguard: invalid env-regex \"(\": missing ): (");
}

TEST(ContainerAttrs, BadTagNamesTheOption) {
  EXPECT_EQ(error_of(info_with({{"tag", "{{.Nope}}"}})),
            "logguard: invalid tag \"{{.Nope}}\": at <.Nope>: can't evaluate field Nope in type "
            "*logger.Info");
  EXPECT_EQ(error_of(info_with({{"tag", "{{nope}}"}})),
            "logguard: invalid tag \"{{nope}}\": function \"nope\" not defined");
  EXPECT_EQ(error_of(info_with({{"tag", "{{printf \"%s\" .Name}}"}})),
            "logguard: invalid tag \"{{printf \"%s\" .Name}}\": the function printf is not "
            "supported by logguard");
}

TEST(ContainerAttrs, RealisticContainer) {
  // A compose service with the labels compose sets and a typical env.
  ContainerInfo info = testing::nginx_container(
      "9b2c0e5a1f3d4c6b8a7e9d0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", "/shop-web-1",
      "2026-11-28T08:00:00.123456789Z");
  info.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "NGINX_VERSION=1.27.3", "TZ=Europe/Paris", "DB_PASSWORD=s3cr3t",
              "SERVICE_NAME=web", "SERVICE_TEAM=payments", "DEBUG"};
  info.labels = {{"com.docker.compose.project", "shop"},
                 {"com.docker.compose.service", "web"},
                 {"com.docker.compose.container-number", "1"},
                 {"com.docker.compose.version", "2.29.7"},
                 {"maintainer", "NGINX Docker Maintainers <docker-maint@nginx.com>"},
                 {"team", "payments"}};
  info.log_opts = {{"labels", "team,maintainer"},
                   {"labels-regex", R"(^com\.docker\.compose\.(project|service)$)"},
                   {"env-regex", "^SERVICE_"},
                   {"env", "TZ"},
                   {"tag", "{{index .ContainerLabels \"com.docker.compose.project\"}}/"
                           "{{.Name}}/{{.ImageName}}/{{.ID}}"},
                   {"rate", "1m"},
                   {"max-size", "20m"}};
  EXPECT_EQ(attrs_json(container_attrs(info, hostname)),
            R"({"SERVICE_NAME":"web","SERVICE_TEAM":"payments","TZ":"Europe/Paris",)"
            R"("com.docker.compose.project":"shop","com.docker.compose.service":"web",)"
            R"("maintainer":"NGINX Docker Maintainers \u003cdocker-maint@nginx.com\u003e",)"
            R"("tag":"shop/shop-web-1/nginx:1.27/9b2c0e5a1f3d","team":"payments"})");
}

TEST(ContainerAttrs, SystemHostnameIsTheHosts) {
  EXPECT_FALSE(system_hostname().empty());
}

}  // namespace
}  // namespace logguard
