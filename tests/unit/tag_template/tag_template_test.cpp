#include "logguard/tag_template/tag_template.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "nginx_container.h"

namespace logguard::tag {
namespace {

// Expected values in this file are what Go renders: a Go 1.19.8 program (the
// Go of Engine 20.10.24) running text/template with moby's template functions
// and loggerutils.ParseLogTag's call over a logger.Info holding web()'s values
// (its Hostname() returning "oracle-host"). Error texts are Go's without its
// "template: log-tag:1:2: executing \"log-tag\"" prefix; Go's own text is in
// the comment above each.

ContainerInfo web() {
  ContainerInfo i = testing::nginx_container(
      "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899", "/web_front-1.blue",
      "2025-03-04T10:11:12.1234567Z");
  i.env = {"PATH=/usr/bin:/bin", "APP=shop", "EMPTY=", "NOEQ", "LOG_LEVEL=debug"};
  i.labels = {{"team", "payments"},
              {"com.docker.compose.service", "web"},
              {"com.docker.compose.project", "shop"},
              {"uni", "éclair ǳ straße"}};
  i.log_opts = {{"labels", "team"}, {"env", "APP"}, {"max-size", "10m"}};
  return i;
}

// What Info.ExtraAttributes(nil) gives for web(): labels=team, env=APP.
std::map<std::string, std::string> web_extra() { return {{"APP", "shop"}, {"team", "payments"}}; }

std::string render(const std::string& text, const ContainerInfo& info = web()) {
  TemplateData data;
  data.info = &info;
  data.hostname = [] { return std::string("oracle-host"); };
  data.extra_attributes = web_extra;
  return Template(text).execute(data);
}

std::string error_of(const std::string& text, const ContainerInfo& info = web()) {
  try {
    render(text, info);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "no error";
}

struct Case {
  const char* text;
  const char* expected;
};

TEST(TagTemplate, RendersAsGoTextTemplate) {
  const std::vector<Case> cases = {
      {R"~({{.ID}})~", R"~(3f4e5d6c7b8a)~"},
      {R"~({{.FullID}})~", R"~(3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899)~"},
      {R"~({{.Name}})~", R"~(web_front-1.blue)~"},
      {R"~({{.ImageID}})~", R"~(sha256:a830a)~"},
      {R"~({{.ImageFullID}})~",
       R"~(sha256:a830a7b2c2d8e1f0a830a7b2c2d8e1f0a830a7b2c2d8e1f0a830a7b2c2d8e1f0)~"},
      {R"~({{.ImageName}})~", R"~(nginx:1.27)~"},
      {R"~({{.DaemonName}})~", R"~(docker)~"},
      {R"~({{.Command}})~", R"~(/docker-entrypoint.sh nginx -g daemon off;)~"},
      {R"~({{.Hostname}})~", R"~(oracle-host)~"},
      {R"~({{.ImageName}}/{{.Name}}/{{.ID}})~", R"~(nginx:1.27/web_front-1.blue/3f4e5d6c7b8a)~"},
      {R"~({{.Config}})~", R"~(map[env:APP labels:team max-size:10m])~"},
      {R"~({{.ContainerID}})~",
       R"~(3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899)~"},
      {R"~({{.ContainerName}})~", R"~(/web_front-1.blue)~"},
      {R"~({{.ContainerEntrypoint}})~", R"~(/docker-entrypoint.sh)~"},
      {R"~({{.ContainerArgs}})~", R"~([nginx -g daemon off;])~"},
      {R"~({{.ContainerImageID}})~",
       R"~(sha256:a830a7b2c2d8e1f0a830a7b2c2d8e1f0a830a7b2c2d8e1f0a830a7b2c2d8e1f0)~"},
      {R"~({{.ContainerImageName}})~", R"~(nginx:1.27)~"},
      {R"~({{.ContainerCreated}})~", R"~(2025-03-04 10:11:12.1234567 +0000 UTC)~"},
      {R"~({{.ContainerEnv}})~", R"~([PATH=/usr/bin:/bin APP=shop EMPTY= NOEQ LOG_LEVEL=debug])~"},
      {R"~({{.ContainerLabels}})~",
       R"~(map[com.docker.compose.project:shop com.docker.compose.service:web team:payments uni:éclair ǳ straße])~"},
      {R"~({{.ContainerLabels.team}})~", R"~(payments)~"},
      {R"~({{.ContainerLabels.nope}})~", R"~(<no value>)~"},
      {R"~({{.ContainerLabels.nope.deeper}})~", R"~(<no value>)~"},
      {R"~({{$.Name}})~", R"~(web_front-1.blue)~"},
      {R"~({{ (.ExtraAttributes nil).APP }})~", R"~(shop)~"},
      {R"~({{ (.ExtraAttributes nil).team }})~", R"~(payments)~"},
      {R"~({{.ExtraAttributes nil}})~", R"~(map[APP:shop team:payments])~"},
      {R"~({{json .Name}})~", R"~("web_front-1.blue")~"},
      {R"~({{json .ContainerArgs}})~", R"~(["nginx","-g","daemon off;"])~"},
      {R"~({{json .ContainerEnv}})~",
       R"~(["PATH=/usr/bin:/bin","APP=shop","EMPTY=","NOEQ","LOG_LEVEL=debug"])~"},
      {R"~({{json .ContainerLabels}})~",
       R"~({"com.docker.compose.project":"shop","com.docker.compose.service":"web","team":"payments","uni":"éclair ǳ straße"})~"},
      {R"~({{json .ContainerCreated}})~", R"~("2025-03-04T10:11:12.1234567Z")~"},
      {R"~({{json .ContainerLabels.nope}})~", R"~(null)~"},
      {R"~({{json nil}})~", R"~(null)~"},
      {R"~({{json 1}} {{json -2.5}} {{json 1e21}} {{json 1e20}} {{json 0.0000001}} {{json true}})~",
       R"~(1 -2.5 1e+21 100000000000000000000 1e-7 true)~"},
      {R"~({{json "<&> \"q\" \\ \t\r\x01\u2028\u00e9"}})~",
       R"~("<&> \"q\" \\ \t\r\u0001\u2028é")~"},
      {R"~({{split .Name "_"}})~", R"~([web front-1.blue])~"},
      {R"~({{split "a,b,,c," ","}})~", R"~([a b  c ])~"},
      {R"~({{split "héllo" ""}})~", R"~([h é l l o])~"},
      {R"~({{json (split "" ",")}} {{json (split "" "")}})~", R"~([""] [])~"},
      {R"~({{join .ContainerArgs "+"}})~", R"~(nginx+-g+daemon off;)~"},
      {R"~({{join (split .Name "_") "."}})~", R"~(web.front-1.blue)~"},
      {R"~({{title "hello wORLD foo_bar foo-bar 3d x.y éclair ǆx"}})~",
       R"~(Hello WORLD Foo_bar Foo-Bar 3d X.Y Éclair ǅx)~"},
      {R"~({{title "a\u00a0b c\u3000d"}})~", R"~(A B C　D)~"},
      {R"~({{lower "ÀB ΣΑΣ Ǆ"}})~", R"~(àb σασ ǆ)~"},
      {R"~({{upper "straße ǆ ﬁ é"}})~", R"~(STRAßE Ǆ ﬁ É)~"},
      {R"~({{upper .ContainerLabels.uni}})~", R"~(ÉCLAIR Ǳ STRAßE)~"},
      {R"~({{upper "a\xffb"}})~", R"~(A�B)~"},
      {R"~({{.Name | upper}})~", R"~(WEB_FRONT-1.BLUE)~"},
      {R"~({{.Name | lower | title}})~", R"~(Web_front-1.Blue)~"},
      {R"~({{pad .Name 2 3}}|)~", R"~(  web_front-1.blue   |)~"},
      {R"~({{pad "" 2 3}}|)~", R"~(|)~"},
      {R"~({{truncate .Name 3}})~", R"~(web)~"},
      {R"~({{truncate .Name 0}}|)~", R"~(|)~"},
      {R"~({{truncate .Name 100}})~", R"~(web_front-1.blue)~"},
      {R"~({{truncate "éclair" 1}})~", "\xC3"},  // bytes: half of 'é'
      {R"~({{truncate .FullID 12}})~", R"~(3f4e5d6c7b8a)~"},
      {R"~({{truncate .Name 3.0}} {{truncate .Name 1e1}} {{truncate .Name 0x3}} {{truncate .Name 010}})~",
       R"~(web web_front- web web_fron)~"},
      {R"~({{truncate .Name 0b11}} {{truncate .Name 0o7}} {{truncate .Name 'a'}})~",
       R"~(web web_fro web_front-1.blue)~"},
      {R"~({{truncate .Name (len .Name)}})~", R"~(web_front-1.blue)~"},
      {R"~({{index .ContainerLabels "com.docker.compose.service"}})~", R"~(web)~"},
      {R"~({{index .ContainerLabels "nope"}}|)~", R"~(|)~"},
      {R"~({{index .ContainerArgs 2}})~", R"~(daemon off;)~"},
      {R"~({{index .Name 0}})~", R"~(119)~"},
      {R"~({{len .Name}} {{len .ContainerArgs}} {{len .ContainerLabels}})~", R"~(16 3 4)~"},
      {R"~({{slice .Name 1 3}} {{slice .ContainerArgs 1}} {{slice .Name}})~",
       R"~(eb [-g daemon off;] web_front-1.blue)~"},
      {R"~({{not .Name}} {{not ""}})~", R"~(false true)~"},
      {R"~({{and .Name .ID}} {{and "" .ID}}|)~", R"~(3f4e5d6c7b8a |)~"},
      {R"~({{or "" .ID}} {{or .ContainerLabels.nope "default"}})~", R"~(3f4e5d6c7b8a default)~"},
      {R"~({{eq .Name "web_front-1.blue"}} {{eq .Name "a" "web_front-1.blue"}})~",
       R"~(true true)~"},
      {R"~({{eq (index .Name 0) 119}} {{eq .ContainerLabels.nope "x"}})~", R"~(true false)~"},
      {R"~({{ne .Name "x"}} {{lt 1 2}} {{lt "b" "a"}} {{le 2 2}})~", R"~(true true false true)~"},
      {R"~({{gt 3 2}} {{ge 1 2}} {{lt 1.5 2.5}})~", R"~(true false true)~"},
      {R"~({{print .Name .ID}} {{print 1 2}} {{print "a" 1 2 "b"}} {{print nil}})~",
       R"~(web_front-1.blue3f4e5d6c7b8a 1 2 a1 2b <nil>)~"},
      {R"~({{println .Name 1}})~", "web_front-1.blue 1\n"},
      {R"~({{html "<a href='x'>&\"\x00"}} {{html .ContainerLabels.nope}})~",
       R"~(&lt;a href=&#39;x&#39;&gt;&amp;&#34;� &lt;no value&gt;)~"},
      {R"~({{urlquery "a b&c=d/é~_.-"}})~", R"~(a+b%26c%3Dd%2F%C3%A9~_.-)~"},
      {R"~({{if .Name}}yes{{else}}no{{end}})~", R"~(yes)~"},
      {R"~({{if .ContainerLabels.nope}}yes{{else if eq .ID "3f4e5d6c7b8a"}}id{{else}}no{{end}})~",
       R"~(id)~"},
      {R"~({{with .ContainerLabels.team}}team={{.}}{{end}})~", R"~(team=payments)~"},
      {R"~({{with .ContainerLabels.nope}}x{{else}}none{{end}})~", R"~(none)~"},
      {R"~({{range .ContainerArgs}}[{{.}}]{{end}})~", R"~([nginx][-g][daemon off;])~"},
      {R"~({{range $i, $a := .ContainerArgs}}{{$i}}={{$a}};{{end}})~",
       R"~(0=nginx;1=-g;2=daemon off;;)~"},
      {R"~({{range $k, $v := .ContainerLabels}}{{$k}}={{$v}};{{end}})~",
       R"~(com.docker.compose.project=shop;com.docker.compose.service=web;team=payments;uni=éclair ǳ straße;)~"},
      {R"~({{range .ContainerLabels.nope}}x{{else}}empty{{end}})~", R"~(empty)~"},
      {R"~({{range .ContainerArgs}}{{if eq . "-g"}}{{break}}{{end}}{{.}}{{end}})~", R"~(nginx)~"},
      {R"~({{range .ContainerArgs}}{{if eq . "-g"}}{{continue}}{{end}}{{.}}{{end}})~",
       R"~(nginxdaemon off;)~"},
      {R"~({{$x := .Name}}{{$x}})~", R"~(web_front-1.blue)~"},
      {R"~({{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}})~", R"~(2)~"},
      {R"~({{$x := .ContainerLabels}}{{$x.team}})~", R"~(payments)~"},
      {R"~(a  {{- .Name -}}  b)~", R"~(aweb_front-1.blueb)~"},
      {R"~(a  {{- /* comment */ -}}  b)~", R"~(ab)~"},
      {R"~({{"{{"}}{{.Name}}{{"}}"}})~", R"~({{web_front-1.blue}})~"},
      {R"~({{`raw \n`}})~", R"~(raw \n)~"},
      {R"~({{"\x41\u00e9\101"}})~", R"~(AéA)~"},
      {R"~({{1}} {{-3}} {{1.0}} {{1e6}} {{1e5}} {{0.0001}} {{0.00001}} {{0x10}} {{'x'}} {{true}})~",
       R"~(1 -3 1 1e+06 100000 0.0001 1e-05 16 120 true)~"},
      {R"~({{.Name | }})~", R"~(web_front-1.blue)~"},
      {R"~({{((.Name))}})~", R"~(web_front-1.blue)~"},
      {R"~({{(.ExtraAttributes nil).team | upper}})~", R"~(PAYMENTS)~"},
      {R"~(just text)~", R"~(just text)~"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(render(c.text), c.expected) << c.text;
  }
}

TEST(TagTemplate, FailsWhereGoFails) {
  const std::vector<Case> cases = {
      // Go: 1:2: at <.Nope>: can't evaluate field Nope in type *logger.Info
      {"{{.Nope}}", "at <.Nope>: can't evaluate field Nope in type *logger.Info"},
      // Go: 1:2: at <.name>: can't evaluate field name in type *logger.Info
      {"{{.name}}", "at <.name>: can't evaluate field name in type *logger.Info"},
      // Go: 1:5: at <.ID.x>: can't evaluate field x in type string
      {"{{.ID.x}}", "at <.ID.x>: can't evaluate field x in type string"},
      // Go: 1:2: at <.ID>: wrong number of args for ID: want 0 got 1
      {"{{.ID 1}}", "at <.ID>: wrong number of args for ID: want 0 got 1"},
      // Go: 1:2: at <.ContainerID>: ContainerID has arguments but cannot be invoked as function
      {"{{.ContainerID 1}}",
       "at <.ContainerID>: ContainerID has arguments but cannot be invoked as function"},
      // Go: 1:10: at <.ContainerID>: ContainerID has arguments but cannot be invoked as function
      {"{{.Name | .ContainerID}}",
       "at <.ContainerID>: ContainerID has arguments but cannot be invoked as function"},
      // Go: 1:9: at <.Config.labels>: labels is not a method but has arguments
      {"{{.Config.labels 1}}", "at <.Config.labels>: labels is not a method but has arguments"},
      // Go: 1:2: at <.ExtraAttributes>: wrong number of args for ExtraAttributes: want 1 got 0
      {"{{.ExtraAttributes}}",
       "at <.ExtraAttributes>: wrong number of args for ExtraAttributes: want 1 got 0"},
      // Go: 1:19: at <"x">: can't handle "x" for arg of type func(string) string
      {"{{.ExtraAttributes \"x\"}}",
       "at <\"x\">: can't handle \"x\" for arg of type func(string) string"},
      // Go: 1:2: at <join>: wrong number of args for join: want 2 got 1
      {"{{join .ContainerArgs}}", "at <join>: wrong number of args for join: want 2 got 1"},
      // Go: 1:25: at <"-">: can't handle "-" for arg of type []string
      {"{{split .Name \"_\" | join \"-\"}}",
       "at <\"-\">: can't handle \"-\" for arg of type []string"},
      // Go: 1:19: at <3>: expected string; found 3
      {"{{.Name | truncate 3}}", "at <3>: expected string; found 3"},
      // Go: 1:17: at <3.5>: expected integer; found 3.5
      {"{{truncate .Name 3.5}}", "at <3.5>: expected integer; found 3.5"},
      // Go: 1:2: at <truncate .Name -1>: error calling truncate: runtime error: slice bounds out
      //   of range [:-1]
      {"{{truncate .Name -1}}",
       "at <truncate .Name -1>: error calling truncate: runtime error: slice bounds out of range "
       "[:-1]"},
      // Go: 1:2: at <pad .Name -1 0>: error calling pad: strings: negative Repeat count
      {"{{pad .Name -1 0}}",
       "at <pad .Name -1 0>: error calling pad: strings: negative Repeat count"},
      // Go: 1:12: at <"1">: expected integer; found "1"
      {"{{pad .Name \"1\" 2}}", "at <\"1\">: expected integer; found \"1\""},
      // Go: 1:2: at <index .ContainerArgs 4>: error calling index: index out of range: 4
      {"{{index .ContainerArgs 4}}",
       "at <index .ContainerArgs 4>: error calling index: index out of range: 4"},
      // Go: 1:2: at <index .ContainerLabels 1>: error calling index: value has type int; should be
      //   string
      {"{{index .ContainerLabels 1}}",
       "at <index .ContainerLabels 1>: error calling index: value has type int; should be string"},
      // Go: 1:2: at <index nil 1>: error calling index: index of untyped nil
      {"{{index nil 1}}", "at <index nil 1>: error calling index: index of untyped nil"},
      // Go: 1:2: at <len .ContainerLabels.nope>: error calling len: reflect: call of
      //   reflect.Value.Type on zero Value
      {"{{len .ContainerLabels.nope}}",
       "at <len .ContainerLabels.nope>: error calling len: reflect: call of reflect.Value.Type on "
       "zero Value"},
      // Go: 1:2: at <slice .Name 3 1>: error calling slice: invalid slice index: 3 > 1
      {"{{slice .Name 3 1}}",
       "at <slice .Name 3 1>: error calling slice: invalid slice index: 3 > 1"},
      // Go: 1:2: at <eq 1 1.0>: error calling eq: incompatible types for comparison
      {"{{eq 1 1.0}}", "at <eq 1 1.0>: error calling eq: incompatible types for comparison"},
      // Go: 1:2: at <lt true false>: error calling lt: invalid type for comparison
      {"{{lt true false}}", "at <lt true false>: error calling lt: invalid type for comparison"},
      // Go: 1:2: at <call .Name>: error calling call: non-function of type string
      {"{{call .Name}}", "at <call .Name>: error calling call: non-function of type string"},
      // Go: 1:24: at <.ContainerLabels.nope>: invalid value; expected string
      {"{{upper .ContainerLabels.nope}}",
       "at <.ContainerLabels.nope>: invalid value; expected string"},
      // Go: 1:8: at <.Name>: range can't iterate over web_front-1.blue
      {"{{range .Name}}x{{end}}", "at <.Name>: range can't iterate over web_front-1.blue"},
      // Go: 1:2: at <nil>: nil is not a command
      {"{{nil}}", "at <nil>: nil is not a command"},
      // Go: 1:7: at <"y">: undefined variable: $x
      {"{{$x = \"y\"}}", "at <\"y\">: undefined variable: $x"},
      // Go: 1: function "nope" not defined
      {"{{nope}}", "function \"nope\" not defined"},
      // Go: 1: {{break}} outside {{range}}
      {"{{break}}", "{{break}} outside {{range}}"},
      // Go: 1: undefined variable "$y"
      {"{{$y}}", "undefined variable \"$y\""},
      // Go: 1: undefined variable "$x"
      {"{{if true}}{{$x := 2}}{{end}}{{$x}}", "undefined variable \"$x\""},
      // Go: 1: unclosed comment
      {"{{/* unclosed", "unclosed comment"},
      // Go: 1: unexpected "/" in command
      {"{{ /* c */ }}", "unexpected \"/\" in command"},
      // Go: 1: invalid syntax
      {"{{\"\\q\"}}", "invalid syntax"},
      // Go: 1: malformed character constant: 'ab'
      {"{{'ab'}}", "malformed character constant: 'ab'"},
      // Go: 1: unterminated quoted string
      {"{{\"unterminated}}", "unterminated quoted string"},
      // Go: 1: unclosed action
      {"{{.Name", "unclosed action"},
      // Go: 1: bad character U+007D '}'
      {"{{.Name}", "bad character U+007D '}'"},
      // Go: 1: unclosed left paren
      {"{{(.Name}}", "unclosed left paren"},
      // Go: 1: unexpected ")" in command
      {"{{.Name)}}", "unexpected \")\" in command"},
      // Go: 1: non executable command in pipeline stage 2
      {"{{.Name | \"x\"}}", "non executable command in pipeline stage 2"},
      // Go: 1: unexpected . after term "nil"
      {"{{nil.x}}", "unexpected . after term \"nil\""},
      // Go: 1: integer overflow: "08"
      {"{{08}}", "integer overflow: \"08\""},
      // Go: 1: bad number syntax: "3x"
      {"{{3x}}", "bad number syntax: \"3x\""},
      // Go: 1: integer overflow: "99999999999999999999"
      {"{{99999999999999999999}}", "integer overflow: \"99999999999999999999\""},
      // Go: 1:2: at <18446744073709551615>: 18446744073709551615 overflows int
      {"{{18446744073709551615}}", "at <18446744073709551615>: 18446744073709551615 overflows int"},
      // Go: 1: unexpected {{end}}
      {"{{end}}", "unexpected {{end}}"},
      // Go: 1: unexpected EOF
      {"{{if .Name}}", "unexpected EOF"},
      // Go: 1: unexpected "," in operand
      {"{{.Name,}}", "unexpected \",\" in operand"},
      // Go: 2:2: at <.Nope>: can't evaluate field Nope in type *logger.Info
      {"{{.Name}}\n{{.Nope}}", "at <.Nope>: can't evaluate field Nope in type *logger.Info"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(error_of(c.text), c.expected) << c.text;
  }
}

TEST(TagTemplate, MultiLineParseErrorsNameTheLine) {
  // Go: template: log-tag:2: function "nope" not defined
  EXPECT_EQ(error_of("{{.Name}}\n{{nope}}"), "line 2: function \"nope\" not defined");
}

TEST(TagTemplate, RefusesWhatItCannotRenderExactly) {
  // Go renders every one of these; logguard says it does not rather than guess.
  const std::vector<Case> cases = {
      {"{{printf \"%s\" .Name}}", "the function printf is not supported by logguard"},
      {"{{js .Name}}", "the function js is not supported by logguard"},
      {"{{define \"x\"}}a{{end}}", "{{define}} is not supported by logguard"},
      {"{{template \"x\"}}", "{{template}} is not supported by logguard"},
      {"{{block \"x\" .}}a{{end}}", "{{block}} is not supported by logguard"},
      {"{{.LogPath}}",
       "at <.LogPath>: .LogPath is not supported by logguard (the engine sends plugins \"\")"},
      {"{{.ContainerCreated.Year}}",
       "at <.ContainerCreated.Year>: methods and fields of time.Time (.Year) are not supported by "
       "logguard"},
      {"{{.}}", "printing the whole Info is not supported by logguard"},
      {"{{$}}", "printing the whole Info is not supported by logguard"},
      {"{{json .}}", "json of the whole Info is not supported by logguard"},
      {"{{1_000}}", "the number 1_000 (with '_') is not supported by logguard"},
      {"{{1i}}", "the imaginary constant 1i is not supported by logguard"},
      {"{{1+2i}}", "the complex constant 1+2i is not supported by logguard"},
      {"{{0x1p4}}", "the hexadecimal float 0x1p4 is not supported by logguard"},
      {"{{.Nämé}}",
       "non-ASCII characters outside quotes in an action are not supported by logguard"},
      {"{{pad .Name 2000000 0}}",
       "a value longer than 1048576 bytes is not supported by logguard"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(error_of(c.text), c.expected) << c.text;
  }
}

TEST(TagTemplate, RefusesRunawayTemplates) {
  // Go would nest, loop and print without limit (and dockerd with it); a tag
  // is small, so logguard refuses what no real one needs.
  const auto nested = [](int levels) {  // the action's pipeline is the first level
    return "{{" + std::string(levels - 1, '(') + ".Name" + std::string(levels - 1, ')') + "}}";
  };
  EXPECT_EQ(render(nested(100)), "web_front-1.blue");
  EXPECT_EQ(error_of(nested(101)), "nesting deeper than 100 levels is not supported by logguard");

  std::string loops = "{{range split (pad \"x\" 0 9999) \"\"}}";  // 10,000 passes
  for (int i = 0; i < 100; ++i) loops += "{{if 0}}{{end}}";            // of 300 steps
  EXPECT_EQ(error_of(loops + "{{end}}"), "more than 1000000 steps is not supported by logguard");
  std::string ranges;  // 5^9 = 1,953,125 passes over web()'s 5 variables, each a copy
  for (int i = 0; i < 9; ++i) ranges += "{{range $.ContainerEnv}}";
  for (int i = 0; i < 9; ++i) ranges += "{{end}}";
  EXPECT_EQ(error_of(ranges),
            "making or reading more than 16777216 bytes of values is not supported by logguard");

  EXPECT_EQ(error_of("{{range .ContainerArgs}}{{pad \"x\" 1000000 0}}{{end}}"),
            "a tag longer than 1048576 bytes is not supported by logguard");
}

// A template that makes $s hold `text` repeated 2^times, by doubling.
std::string doubled(const std::string& text, int times) {
  std::string t = "{{$s := \"" + text + "\"}}";
  for (int i = 0; i < times; ++i) t += "{{$s = print $s $s}}";
  return t;
}

const std::string kValueTooLong = "a value longer than 1048576 bytes is not supported by logguard";

TEST(TagTemplate, EveryValueIsBoundedAsItGrows) {
  // The issue's template: the plugin's peak RSS went to 795,620 kB; one more
  // level would have been 16 times that.
  std::string prints = "{{$x = print";
  for (int i = 0; i < 16; ++i) prints += " $x";
  prints += "}}";
  EXPECT_EQ(error_of("{{$x := pad \"x\" 0 1048576}}" + prints + prints + "{{len $x}}"),
            kValueTooLong);
  EXPECT_EQ(error_of("{{$x := pad \"x\" 0 65536}}" + prints + prints + "{{len $x}}"),
            kValueTooLong);
  // Up to the bound, values are made.
  EXPECT_EQ(render("{{len (pad \"x\" 1048575 0)}}"), "1048576");
  EXPECT_EQ(render(doubled("ab", 19) + "{{len $s}}"), "1048576");

  // Each function that makes text or lists, past the bound by its own growth
  // (its arguments are all within it).
  const std::vector<std::string> cases = {
      "{{pad \"x\" 0 1048576}}",
      "{{pad \"x\" 9223372036854775807 9223372036854775807}}",
      "{{print (pad \"x\" 0 600000) (pad \"y\" 0 600000)}}",
      "{{println (pad \"x\" 0 600000) (pad \"y\" 0 600000)}}",
      "{{$a := split (pad \"x\" 0 40000) \"\"}}",  // 40,001 strings of a byte
      doubled(",", 15) + "{{$a := split $s \",\"}}",  // 32,769 empty strings
      doubled("ab", 18) + "{{$a := split $s \"\"}}",
      doubled("ab", 17) + "{{join (split (print $s \",\" $s \",\" $s) \",\") $s}}",
      doubled("<", 19) + "{{html $s}}",             // &lt; for each of 524,288 '<'
      doubled("<", 19) + "{{urlquery $s}}",         // %3C
      doubled("\\x01", 18) + "{{json $s}}",         // \u0001
      doubled("\\xff", 19) + "{{upper $s}}",        // U+FFFD, three bytes, for each
      doubled("\\xff", 19) + "{{lower $s}}",
      doubled("\\xff", 19) + "{{title $s}}",
      doubled("ab", 19) + "{{print $s \"!\"}}",
  };
  for (const std::string& text : cases) {
    EXPECT_EQ(error_of(text), kValueTooLong) << text.substr(text.rfind("{{"));
  }
}

TEST(TagTemplate, WorkOfAnExecutionIsBounded) {
  // Copies count: a MiB value read 17 times is more than 16 MiB moved.
  const std::string copies =
      "{{$x := pad \"x\" 0 1000000}}{{range split \"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\" \",\"}}"
      "{{$y := $x}}{{end}}";
  EXPECT_EQ(error_of(copies),
            "making or reading more than 16777216 bytes of values is not supported by logguard");
  // Reading a value costs its bytes as well: eq compares a MiB each time.
  EXPECT_EQ(error_of("{{$x := pad \"x\" 0 1000000}}{{range split (pad \"x\" 0 99) \"\"}}"
                     "{{if eq $x $x}}{{end}}{{end}}"),
            "making or reading more than 16777216 bytes of values is not supported by logguard");

  // Variables looked past are steps: with 1000 variables, every use of $
  // passes all of them.
  std::string vars;
  for (int i = 0; i < 1000; ++i) vars += "{{$v" + std::to_string(i) + " := 1}}";
  EXPECT_EQ(render(vars + "{{range split (pad \"x\" 0 99) \"\"}}{{if $}}{{end}}{{end}}"), "");
  EXPECT_EQ(error_of(vars + "{{range split (pad \"x\" 0 1999) \"\"}}{{if $}}{{end}}{{end}}"),
            "more than 1000000 steps is not supported by logguard");
  // So are the arguments evaluated.
  std::string args = "{{and";
  for (int i = 0; i < 2000; ++i) args += " 1";
  args += "}}";
  EXPECT_EQ(error_of("{{range split (pad \"x\" 0 999) \"\"}}" + args + "{{end}}"),
            "more than 1000000 steps is not supported by logguard");

  // What an execution took is reported, also when it failed.
  Template::Work work;
  ContainerInfo info = web();
  TemplateData data;
  data.info = &info;
  EXPECT_EQ(Template("{{.Name}}").execute(data, &work), "web_front-1.blue");
  EXPECT_GT(work.steps, 0u);
  EXPECT_GE(work.bytes, 16u);
  work = {};
  EXPECT_THROW(Template(copies).execute(data, &work), TemplateError);
  EXPECT_GT(work.bytes, Template::kMaxBytesMoved);
  EXPECT_LE(work.bytes, Template::kMaxBytesMoved + 2 * Template::kMaxValueBytes);
}

TEST(TagTemplate, HostnameAndExtraAttributesAreAskedOncePerExecution) {
  // Go asks at every use; each ask is a system call or a pass over every
  // label and variable, which a loop would repeat a million times.
  const ContainerInfo info = web();
  int hostnames = 0, extras = 0;
  TemplateData data;
  data.info = &info;
  data.hostname = [&] {
    ++hostnames;
    return std::string("h");
  };
  data.extra_attributes = [&] {
    ++extras;
    return web_extra();
  };
  const Template tag(
      "{{range split (pad \"x\" 0 99) \"\"}}{{$.Hostname}}{{$.ExtraAttributes nil}}{{end}}");
  const std::string once = "hmap[APP:shop team:payments]";
  EXPECT_EQ(tag.execute(data).size(), 100 * once.size());
  EXPECT_EQ(hostnames, 1);
  EXPECT_EQ(extras, 1);
  tag.execute(data);  // a new execution asks again
  EXPECT_EQ(hostnames, 2);
}

TEST(TagTemplate, EmptyTemplateRendersNothing) {
  EXPECT_EQ(render(""), "");
  EXPECT_EQ(render("{{/* only a comment */}}"), "");
}

TEST(TagTemplate, NameWithoutLeadingSlashStaysAsIs) {
  ContainerInfo info = web();
  info.name = "plain";
  EXPECT_EQ(render("{{.Name}} {{.ContainerName}}", info), "plain plain");
  info.name = "//double";
  EXPECT_EQ(render("{{.Name}}", info), "/double");  // only one '/' is trimmed
}

TEST(TagTemplate, EnvironmentOfNoneIsNullArgsOfNoneAreEmpty) {
  // Engine 20.10 hands json-file a nil Env (JSON null) for a container
  // without variables, and [] for a command without arguments.
  ContainerInfo info = web();
  info.env.clear();
  info.args.clear();
  EXPECT_EQ(render("{{json .ContainerEnv}} {{json .ContainerArgs}} {{.Command}}|", info),
            "null [] /docker-entrypoint.sh|");
}

TEST(TagTemplate, ShortIdsFailAsGoPanics) {
  ContainerInfo info = web();
  info.id = "abc";
  // Go: error calling ID: runtime error: slice bounds out of range [:12] with length 3
  EXPECT_EQ(error_of("{{.ID}}", info),
            "at <.ID>: error calling ID: runtime error: slice bounds out of range [:12] with "
            "length 3");
  EXPECT_EQ(render("{{.FullID}}", info), "abc");
}

TEST(TagTemplate, HostnameFailureIsReported) {
  const ContainerInfo info = web();
  TemplateData data;
  data.info = &info;
  data.hostname = []() -> std::string { throw std::runtime_error("uname: EPERM"); };
  EXPECT_EQ(Template("{{.Name}}").execute(data), "web_front-1.blue");  // not asked
  try {
    Template("{{.Hostname}}").execute(data);
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(),
                 "at <.Hostname>: error calling Hostname: logger: can not resolve hostname: "
                 "uname: EPERM");
  }
}

TEST(TagTemplate, ParsesOnceExecutesOften) {
  const Template tag("{{.Name}}-{{$x := 1}}{{$x}}");
  ContainerInfo a = web(), b = web();
  b.name = "/other";
  TemplateData data;
  data.info = &a;
  EXPECT_EQ(tag.execute(data), "web_front-1.blue-1");
  data.info = &b;
  EXPECT_EQ(tag.execute(data), "other-1");
}

TEST(TagTemplate, CreatedTimeMustBeUtc) {
  ContainerInfo info = web();
  info.created = "2025-03-04T10:11:12.500000000Z";  // trailing zeros are trimmed as Go prints
  EXPECT_EQ(render("{{.ContainerCreated}}|{{json .ContainerCreated}}", info),
            "2025-03-04 10:11:12.5 +0000 UTC|\"2025-03-04T10:11:12.5Z\"");
  info.created = "";  // Go's zero time
  EXPECT_EQ(render("{{.ContainerCreated}}", info), "0001-01-01 00:00:00 +0000 UTC");
  info.created = "2025-03-04T10:11:12+02:00";
  EXPECT_EQ(error_of("{{.ContainerCreated}}", info),
            "ContainerCreated \"2025-03-04T10:11:12+02:00\" (not UTC RFC 3339) is not supported "
            "by logguard");
}

}  // namespace
}  // namespace logguard::tag
