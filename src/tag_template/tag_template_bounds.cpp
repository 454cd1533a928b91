// The bounds of a tag template's execution (tag_template_bounds.h).
#include "tag_template_bounds.h"

#include <algorithm>

namespace logguard::tag {

void check_value_size(uint64_t bytes, std::string_view what) {
  if (bytes > kMaxValueBytes) {
    throw TemplateError(std::string(what) + " longer than " + std::to_string(kMaxValueBytes) +
                        " bytes is not supported by logguard");
  }
}

ValueText& ValueText::operator+=(std::string_view s) {
  const size_t size = text_.size() + s.size();
  check_value_size(size, what_);
  // Grown by doubling as std::string does, but never past the bound (a new
  // buffer: reserve() would round a request below twice the old one up).
  if (size > text_.capacity()) {
    std::string grown;
    grown.reserve(std::min(std::max(size, 2 * text_.capacity()), kMaxValueBytes));
    grown += text_;
    text_.swap(grown);
  }
  text_ += s;
  return *this;
}

void WorkMeter::steps(uint64_t n) {
  work_.steps += n;
  if (work_.steps > Template::kMaxSteps) {
    throw TemplateError("more than " + std::to_string(Template::kMaxSteps) +
                        " steps is not supported by logguard");
  }
}

void WorkMeter::bytes(uint64_t n) {
  work_.bytes += n;
  if (work_.bytes > Template::kMaxBytesMoved) {
    throw TemplateError("making or reading more than " +
                        std::to_string(Template::kMaxBytesMoved) +
                        " bytes of values is not supported by logguard");
  }
}

}  // namespace logguard::tag
