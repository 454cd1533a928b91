// TagTemplate (logguard/tag_template.h): parsed once by tag_template_parse,
// executed per container by tag_template_exec.
#include "logguard/tag_template/tag_template.h"

#include "tag_template_exec.h"
#include "tag_template_tree.h"

namespace logguard {

TagTemplate::TagTemplate(std::string_view text) : tree_(std::make_unique<Tree>()) {
  tree_->root = tag::parse(text);
}

TagTemplate::~TagTemplate() = default;
TagTemplate::TagTemplate(TagTemplate&&) noexcept = default;
TagTemplate& TagTemplate::operator=(TagTemplate&&) noexcept = default;

std::string TagTemplate::execute(const TemplateData& data, Work* work) const {
  Work local;
  return tag::execute(*tree_->root, data, work != nullptr ? *work : local);
}

}  // namespace logguard
