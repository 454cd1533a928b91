// How the tag template's values print: Go's fmt (%v, Sprint, Sprintln) and
// Docker's json function (encoding/json with HTML escaping off), byte for
// byte as Go 1.19 prints them. What logguard cannot print exactly (the whole
// Info, a ContainerCreated that is not UTC RFC 3339) throws TemplateError.
// Private to the tag template.
#pragma once

#include <string>
#include <vector>

#include "tag_template_bounds.h"
#include "tag_template_value.h"

namespace logguard::tag {

// Go's fmt %v of one value (fmt.Fprint of a single operand).
std::string format_value(const Value& v);
// The same, appended to out (refused as soon as out grows past its bound).
void format_into(ValueText& out, const Value& v);

// fmt.Sprint: a space between operands when neither is a string.
std::string sprint(const std::vector<Value>& args);
// fmt.Sprintln: a space between all operands, a newline at the end.
std::string sprintln(const std::vector<Value>& args);

// text/template's evalArgs, the argument text of html and urlquery: one
// string as it is, anything else through fmt.Sprint with nil as "<no value>".
std::string eval_args(std::vector<Value>& args);

// encoding/json's Marshal with SetEscapeHTML(false), as Docker's json
// function renders it (without the Encoder's trailing newline).
std::string to_json(const Value& v);

}  // namespace logguard::tag
