// What one execution of a tag template may take (the bounds are
// Template's, tag_template.h): the size of each value, checked while the
// value is made, and the steps and bytes of the whole execution, counted as
// it goes. Go's text/template has none of these; a tag that needed them would
// hold up StartLogging and take the plugin's memory. Private to the tag
// template.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "logguard/tag_template/tag_template.h"

namespace logguard::tag {

inline constexpr size_t kMaxValueBytes = Template::kMaxValueBytes;

// Throws TemplateError if `what` ("a value", "a tag") of `bytes` bytes is
// over kMaxValueBytes.
void check_value_size(uint64_t bytes, std::string_view what = "a value");

// Text a template makes, refused the moment it would grow past
// kMaxValueBytes: before the memory is taken, and its buffer never holds
// more than the bound.
class ValueText {
 public:
  explicit ValueText(std::string_view what = "a value") : what_(what) {}

  ValueText& operator+=(std::string_view s);
  ValueText& operator+=(char c) { return *this += std::string_view(&c, 1); }
  size_t size() const { return text_.size(); }
  std::string take() && { return std::move(text_); }

 private:
  std::string text_;
  std::string_view what_;
};

// The work of one execution so far, refused past the bounds (Template's
// kMaxSteps, kMaxBytesMoved). Counts into the Work it is given.
class WorkMeter {
 public:
  explicit WorkMeter(Template::Work& work) : work_(work) {}
  // n more steps: nodes walked, arguments evaluated, variables looked past.
  void steps(uint64_t n = 1);
  // n more bytes of values made, copied or read.
  void bytes(uint64_t n);

 private:
  Template::Work& work_;
};

}  // namespace logguard::tag
