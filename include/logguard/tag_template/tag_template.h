// tag::Template: Docker's log tag template (`--log-opt tag=...`), parsed and
// executed as moby's loggerutils.ParseLogTag does with Go's text/template over
// a *logger.Info, so a template we accept renders byte for byte what json-file
// renders on the same container.
//
// The language is Go 1.19's text/template (what Engine 20.10 is built with):
// text, {{/* comments */}}, {{- and -}} trim markers, pipelines `a | b c`,
// parenthesized pipelines, field chains (.Name, .ContainerLabels.team,
// (.ExtraAttributes nil).KEY), string/raw/char/number/bool/nil literals,
// variables ($, $x := ..., $x = ...), if/else if/else, with/else, range/else
// with break and continue.
// The data is logger.Info: its fields Config, ContainerID, ContainerName,
// ContainerEntrypoint, ContainerArgs, ContainerImageID, ContainerImageName,
// ContainerCreated, ContainerEnv, ContainerLabels, DaemonName and its methods
// ID, FullID, Name, Command, ImageID, ImageFullID, ImageName, Hostname,
// ExtraAttributes. Functions: Docker's json, split, join, title, lower,
// upper, pad, truncate and Go's builtins and, or, not, len, index, slice, eq,
// ne, lt, le, gt, ge, print, println, html, urlquery, call.
//
// Values print as Go's fmt prints them ([a b] for a list, map[k:v] for a
// map, "<no value>" for a missing map key, 2025-03-04 10:11:12.5 +0000 UTC for
// .ContainerCreated); json, upper, lower and title follow Go 1.19's
// encoding/json and Unicode 13 tables, byte for byte (src/tag_template/unicode_case.h).
// .ContainerEnv of a container without variables is nil (JSON null), as the
// engine has it; its .ContainerArgs without arguments are [].
//
// What logguard cannot render exactly is an error naming it, "... is not
// supported by logguard", never a guess: define/template/block, printf and js,
// .LogPath (the engine sends plugins ""), methods of .ContainerCreated, the
// whole Info as a value ({{.}}, {{json .}}), complex, imaginary, hex-float and
// underscored number literals, non-ASCII letters outside quotes in actions,
// a ContainerCreated that is not UTC RFC 3339, and nesting deeper than 100
// levels.
//
// Where Go would go on for as long as it takes and let its values grow as
// big as they get, one execution is bounded (the constants below): every
// value it makes (a string from pad, print, join, html, urlquery, json,
// upper..., a list from split, the tag itself) is checked as it grows, before
// its memory is taken; the steps it takes and the bytes of the values it
// makes, copies or reads are counted, and over a bound it fails ("... is not
// supported by logguard"). Together these bound its time and memory.
//
// Errors name the problem as Go does ("function \"nope\" not defined",
// "at <.Nope>: can't evaluate field Nope in type *logger.Info"), without Go's
// "template: log-tag:1:" prefix, which logguard's own prefix replaces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "logguard/format/container_info.h"

namespace logguard::tag {

class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a template sees: the container's Info plus the two methods whose
// results do not come from it. Either function may throw std::exception; the
// template reports "error calling Hostname: <what>".
struct TemplateData {
  const ContainerInfo* info = nullptr;
  std::function<std::string()> hostname;                                 // {{.Hostname}}
  std::function<std::map<std::string, std::string>()> extra_attributes;  // .ExtraAttributes
};

class Template {
 public:
  // Bounds of one execution, far above any real tag: Docker's documented
  // tags ({{.ImageName}}/{{.Name}}/{{.ID}}) are tens of bytes, and the tag
  // goes into every record of the container, so a tag of a MiB would make
  // every log line a MiB. A value, the tag included, is at most 1 MiB (what
  // logguard allowed the tag before these bounds); an execution takes at most
  // a million steps (a node walked, an argument evaluated, a variable looked
  // past; a real tag takes tens) and makes, copies or reads at most 16 MiB of
  // values (sixteen values of the largest size; a real tag, a few KiB).
  static constexpr size_t kMaxValueBytes = size_t{1} << 20;
  static constexpr uint64_t kMaxSteps = 1'000'000;
  static constexpr uint64_t kMaxBytesMoved = uint64_t{16} << 20;

  // What an execution took, counted as it went (also when it failed).
  struct Work {
    uint64_t steps = 0;
    uint64_t bytes = 0;  // of values made, copied or read
  };

  // Throws TemplateError for text Go would not parse, or that uses a feature
  // logguard does not support.
  explicit Template(std::string_view text);
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Throws TemplateError where Go's Execute fails (unknown field, wrong
  // argument count or type, index out of range, ...) or a bound is passed.
  // `work`, if given, gets what the execution took.
  std::string execute(const TemplateData& data, Work* work = nullptr) const;

  struct Tree;  // the parsed template (src/tag_template/tag_template_tree.h)

 private:
  std::unique_ptr<Tree> tree_;
};

}  // namespace logguard::tag
