// tag::Template (tag_template.h): parsed once by tag_template_parse, executed
// per container by tag_template_exec.
#include "logguard/tag_template/tag_template.h"

#include "tag_template_exec.h"
#include "tag_template_tree.h"

namespace logguard::tag {

Template::Template(std::string_view text) : tree_(std::make_unique<Tree>()) {
  tree_->root = parse(text);
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::execute(const TemplateData& data, Work* work) const {
  Work local;
  return tag::execute(*tree_->root, data, work != nullptr ? *work : local);
}

}  // namespace logguard::tag
