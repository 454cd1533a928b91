// The evaluator of the tag template: Go 1.19's text/template execution
// (text/template/exec.go) of a parse tree over a *logger.Info, with the same
// order of evaluation, the same typing of arguments and the same failures.
// Where Go would run or grow without bound, it stops at Template's bounds
// (tag_template_bounds.h). Private to the tag template.
#pragma once

#include <string>

#include "logguard/tag_template/tag_template.h"
#include "tag_template_tree.h"

namespace logguard::tag {

// The text the template `root` renders over `data`, counting into `work`
// what it takes. Throws TemplateError where Go's Execute fails, where
// logguard cannot render exactly, or where a bound is passed.
std::string execute(const Node& root, const TemplateData& data, Template::Work& work);

}  // namespace logguard::tag
