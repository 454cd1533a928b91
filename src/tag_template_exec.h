// The evaluator of the tag template: Go 1.19's text/template execution
// (text/template/exec.go) of a parse tree over a *logger.Info, with the same
// order of evaluation, the same typing of arguments and the same failures.
// Where Go would run or print without bound, it stops: more than a million
// steps or a result over 1 MiB is refused. Private to the tag template.
#pragma once

#include <string>

#include "logguard/tag_template.h"
#include "tag_template_tree.h"

namespace logguard::tag {

// The text the template `root` renders over `data`. Throws TemplateError
// where Go's Execute fails, or where logguard cannot render exactly.
std::string execute(const Node& root, const TemplateData& data);

}  // namespace logguard::tag
