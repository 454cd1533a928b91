// The evaluator of the tag template (tag_template_exec.h): a walk over the
// parse tree as Go's text/template/exec.go does it.
#include "tag_template_exec.h"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tag_template_bounds.h"
#include "tag_template_funcs.h"
#include "tag_template_info.h"
#include "tag_template_print.h"
#include "tag_template_strconv.h"
#include "tag_template_value.h"

namespace logguard::tag {
namespace {

// What walking a statement ended with: normally, or {{break}}/{{continue}}.
enum class Flow { kNormal, kBreak, kContinue };

using Args = std::span<const Node* const>;

bool can_be_nil(Param p) { return p != Param::kString && p != Param::kInt; }

Value zero_of(Param p) {
  switch (p) {
    case Param::kStrings: {
      Value v = Value::of_kind(Kind::kStrings);
      v.is_nil = true;
      return v;
    }
    case Param::kAny:
    case Param::kKeyMod:
      return Value::of_kind(Kind::kNil);
    default:
      return Value::of_kind(Kind::kInvalid);
  }
}

// f, called at most once however often the result is asked for. Go calls
// Hostname and ExtraAttributes at every use, but within one execution their
// result cannot change, and each call costs a system call or a pass over
// every label and variable, which a loop would repeat a million times. (A
// failure ends the execution, so it is never asked for twice.)
template <typename T>
std::function<T()> called_once(std::function<T()> f) {
  if (!f) return f;
  auto memo = std::make_shared<std::optional<T>>();
  return [f = std::move(f), memo] {
    if (!*memo) *memo = f();
    return **memo;
  };
}

class Executor {
 public:
  Executor(const TemplateData& data, Template::Work& work)
      : data_{data.info, called_once(data.hostname), called_once(data.extra_attributes)},
        meter_(work) {
    root_ = Value::of_kind(Kind::kInfo);
    vars_.push_back({"$", root_});
  }

  std::string run(const Node& root) {
    walk(root_, root);
    return std::move(out_).take();
  }

 private:
  struct Variable {
    std::string name;
    Value value;
  };

  // ---- errors ----
  void at(const Node& n) { node_ = &n; }
  [[noreturn]] void error(const std::string& message) const {
    if (node_ == nullptr) throw TemplateError(message);
    throw TemplateError("at <" + node_->source + ">: " + message);
  }

  // ---- work ----
  // Every value the evaluator hands on is counted with its bytes where it
  // comes out (a command, an argument, a field, a variable, a range
  // element), so copies count as often as they are made.
  Value counted(Value v) {
    meter_.bytes(footprint(v));
    return v;
  }

  // ---- statements ----
  Flow walk(const Value& dot, const Node& node) {
    at(node);
    meter_.steps();
    switch (node.type) {
      case NodeType::kList:
        for (const auto& child : node.children) {
          if (Flow f = walk(dot, *child); f != Flow::kNormal) return f;
        }
        return Flow::kNormal;
      case NodeType::kText:
        out_ += node.text;
        return Flow::kNormal;
      case NodeType::kAction: {
        Value v = eval_pipeline(dot, *node.pipe);
        if (node.pipe->decls.empty()) {
          at(node);
          format_into(out_, v);
        }
        return Flow::kNormal;
      }
      case NodeType::kIf:
      case NodeType::kWith:
        return walk_if_or_with(dot, node);
      case NodeType::kRange:
        return walk_range(dot, node);
      case NodeType::kBreak:
        return Flow::kBreak;
      case NodeType::kContinue:
        return Flow::kContinue;
      default:
        error("unknown node");
    }
  }

  Flow walk_if_or_with(const Value& dot, const Node& node) {
    const size_t mark = vars_.size();
    Value v = eval_pipeline(dot, *node.pipe);
    Flow flow = Flow::kNormal;
    if (is_true(v)) {
      flow = walk(node.type == NodeType::kWith ? v : dot, *node.list);
    } else if (node.else_list) {
      flow = walk(dot, *node.else_list);
    }
    vars_.resize(mark);
    return flow;
  }

  Flow walk_range(const Value& dot, const Node& node) {
    at(node);
    const size_t outer = vars_.size();
    Value v = eval_pipeline(dot, *node.pipe);
    const size_t mark = vars_.size();
    const size_t decls = node.pipe->decls.size();
    // One pass of the body; false once {{break}} ends the loop.
    auto iteration = [&](Value index, Value element) {
      element = counted(std::move(element));
      if (decls > 0) vars_[vars_.size() - 1].value = element;
      if (decls > 1) vars_[vars_.size() - 2].value = std::move(index);
      const Flow flow = walk(element, *node.list);
      vars_.resize(mark);
      return flow != Flow::kBreak;
    };
    bool empty = true;
    switch (v.kind) {
      case Kind::kStrings:
        for (size_t i = 0; i < v.strings.size(); ++i) {
          empty = false;
          if (!iteration(Value::of_int(static_cast<int64_t>(i)), Value::of_string(v.strings[i]))) {
            break;
          }
        }
        break;
      case Kind::kMap:
        for (const auto& [key, value] : v.map) {  // Go ranges over a map in key order
          empty = false;
          if (!iteration(Value::of_string(key), Value::of_string(value))) break;
        }
        break;
      case Kind::kInvalid:
        break;
      default:
        error("range can't iterate over " + describe(v));
    }
    if (empty && node.else_list) walk(dot, *node.else_list);
    vars_.resize(outer);
    return Flow::kNormal;
  }

  // %v of a value for messages, without failing on what we cannot print.
  static std::string describe(const Value& v) {
    if (v.kind == Kind::kInfo) return "*logger.Info";
    if (v.kind == Kind::kTime) return v.str;
    return format_value(v);
  }

  // ---- pipelines ----
  Value eval_pipeline(const Value& dot, const Node& pipe) {
    at(pipe);
    std::optional<Value> value;  // nullopt: Go's missingVal, no previous command
    for (const auto& cmd : pipe.children) {
      Value v = eval_command(dot, *cmd, value);
      if (v.kind == Kind::kNil) v.kind = Kind::kInvalid;  // a nil interface{} result
      value = std::move(v);
    }
    for (const auto& name : pipe.decls) {
      meter_.bytes(footprint(*value));
      if (pipe.is_assign) {
        variable(name).value = *value;
      } else {
        vars_.push_back({name, *value});
      }
    }
    return *value;
  }

  // The innermost variable of that name; each one looked past is a step.
  Variable& variable(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      meter_.steps();
      if (it->name == name) return *it;
    }
    error("undefined variable: " + name);
  }

  void not_a_function(Args args, const std::optional<Value>& final) {
    if (args.size() > 1 || final) error("can't give argument to non-function " + args[0]->source);
  }

  Value eval_command(const Value& dot, const Node& cmd, const std::optional<Value>& final) {
    meter_.steps();
    return counted(command_value(dot, cmd, final));
  }

  Value command_value(const Value& dot, const Node& cmd, const std::optional<Value>& final) {
    std::vector<const Node*> words;
    for (const auto& child : cmd.children) words.push_back(child.get());
    const Args args(words);
    const Node& first = *args[0];
    switch (first.type) {
      case NodeType::kField:
        at(first);
        return eval_field_chain(dot, dot, first, first.idents, args, final);
      case NodeType::kChain:
        return eval_chain(dot, first, args, final);
      case NodeType::kIdentifier:
        return eval_function(dot, first, cmd, args, final);
      case NodeType::kPipe:
        not_a_function(args, final);
        return eval_pipeline(dot, first);
      case NodeType::kVariable:
        return eval_variable(dot, first, args, final);
      default:
        break;
    }
    at(first);
    not_a_function(args, final);
    switch (first.type) {
      case NodeType::kBool: return Value::of_bool(first.truth);
      case NodeType::kDot: return dot;
      case NodeType::kNil: error("nil is not a command");
      case NodeType::kNumber: return ideal_constant(first);
      case NodeType::kString: return Value::of_string(first.text);
      default: error("can't evaluate command " + quote(first.source));
    }
  }

  // An untyped number constant where Go has no type to give it: float64 if
  // written as a float, else int.
  Value ideal_constant(const Node& n) {
    at(n);
    const Number& num = n.number;
    if (num.is_float && n.float_literal) {
      Value v = Value::of_kind(Kind::kFloat);
      v.real = num.float_value;
      return v;
    }
    if (num.is_int) return Value::of_int(num.int_value);
    error(n.source + " overflows int");
  }

  Value eval_chain(const Value& dot, const Node& chain, Args args,
                   const std::optional<Value>& final) {
    at(chain);
    if (chain.pipe->type == NodeType::kNil) {
      error("indirection through explicit nil in " + chain.source);
    }
    Value receiver = eval_arg(dot, std::nullopt, *chain.pipe);
    return eval_field_chain(dot, receiver, chain, chain.idents, args, final);
  }

  Value eval_variable(const Value& dot, const Node& var, Args args,
                      const std::optional<Value>& final) {
    at(var);
    Value v = variable(var.idents[0]).value;
    if (var.idents.size() == 1) {
      not_a_function(args, final);
      return v;
    }
    std::vector<std::string> fields(var.idents.begin() + 1, var.idents.end());
    return eval_field_chain(dot, v, var, fields, args, final);
  }

  Value eval_field_chain(const Value& dot, Value receiver, const Node& node,
                         const std::vector<std::string>& idents, Args args,
                         const std::optional<Value>& final) {
    for (size_t i = 0; i + 1 < idents.size(); ++i) {
      receiver = eval_field(dot, idents[i], node, {}, std::nullopt, receiver);
    }
    return eval_field(dot, idents.back(), node, args, final, receiver);
  }

  Value eval_field(const Value& dot, const std::string& name, const Node& node, Args args,
                   const std::optional<Value>& final, const Value& receiver) {
    return counted(field_value(dot, name, node, args, final, receiver));
  }

  Value field_value(const Value& dot, const std::string& name, const Node& node, Args args,
                    const std::optional<Value>& final, const Value& receiver) {
    if (receiver.kind == Kind::kInvalid || receiver.kind == Kind::kNil) {
      return Value::of_kind(Kind::kInvalid);  // Go's missingkey=default: no value
    }
    const bool has_args = args.size() > 1 || final;
    switch (receiver.kind) {
      case Kind::kInfo: {
        if (const InfoMethod* m = find_info_method(name)) {
          Function f{m->params, false, [this, m](std::vector<Value>& argv) {
                       return m->call(data_, argv);
                     }};
          return eval_call(dot, f, false, node, name, args, final);
        }
        if (name == "LogPath") {
          error(".LogPath is not supported by logguard (the engine sends plugins \"\")");
        }
        if (auto v = info_field(*data_.info, name)) {
          if (has_args) error(name + " has arguments but cannot be invoked as function");
          return *v;
        }
        error("can't evaluate field " + name + " in type *logger.Info");
      }
      case Kind::kMap: {
        if (has_args) error(name + " is not a method but has arguments");
        auto it = receiver.map.find(name);
        if (it == receiver.map.end()) return Value::of_kind(Kind::kInvalid);
        return Value::of_string(it->second);
      }
      case Kind::kTime:
        error("methods and fields of time.Time (." + name + ") are not supported by logguard");
      default:
        error("can't evaluate field " + name + " in type " + type_name(receiver));
    }
  }

  Value eval_function(const Value& dot, const Node& ident, const Node& cmd, Args args,
                      const std::optional<Value>& final) {
    at(ident);
    const Function* f = find_function(ident.text);
    if (f == nullptr) error(quote(ident.text) + " is not a defined function");
    return eval_call(dot, *f, true, cmd, ident.text, args, final);
  }

  Value eval_call(const Value& dot, const Function& f, bool builtin, const Node& node,
                  const std::string& name, Args args, const std::optional<Value>& final) {
    const Args given = args.empty() ? args : args.subspan(1);
    const size_t num_in = given.size() + (final ? 1 : 0);
    size_t num_fixed = given.size();
    if (f.variadic) {
      num_fixed = f.params.size() - 1;
      if (num_in < num_fixed) {
        error("wrong number of args for " + name + ": want at least " +
              std::to_string(num_fixed) + " got " + std::to_string(given.size()));
      }
    } else if (num_in != f.params.size()) {
      error("wrong number of args for " + name + ": want " + std::to_string(f.params.size()) +
            " got " + std::to_string(num_in));
    }
    if (builtin && (name == "and" || name == "or")) return and_or(dot, name, given, final);

    std::vector<Value> argv;
    size_t i = 0;
    for (; i < num_fixed && i < given.size(); ++i) {
      argv.push_back(eval_arg(dot, f.params[i], *given[i]));
    }
    if (f.variadic) {
      for (; i < given.size(); ++i) argv.push_back(eval_arg(dot, f.params.back(), *given[i]));
    }
    if (final) {
      Param p = f.params.back();
      if (f.variadic && num_in - 1 < num_fixed) p = f.params[num_in - 1];
      argv.push_back(validate_type(*final, p));
    }
    try {
      return f.call(argv);
    } catch (const CallError& e) {
      at(node);
      error("error calling " + name + ": " + e.message);
    }
  }

  // and/or evaluate their arguments only until the result is known.
  Value and_or(const Value& dot, const std::string& name, Args given,
               const std::optional<Value>& final) {
    const bool want = name == "or";
    Value v;
    for (const auto& arg : given) {
      v = eval_arg(dot, Param::kReflect, *arg);
      if (is_true(v) == want) return v;
    }
    if (final) v = *final;
    return v;
  }

  // An argument for a parameter of type p (nullopt: no type, a chain's term).
  Value eval_arg(const Value& dot, std::optional<Param> p, const Node& n) {
    meter_.steps();
    return counted(arg_value(dot, p, n));
  }

  Value arg_value(const Value& dot, std::optional<Param> p, const Node& n) {
    at(n);
    switch (n.type) {
      case NodeType::kDot:
        return validate_type(dot, p);
      case NodeType::kNil:
        if (p && can_be_nil(*p)) return zero_of(*p);
        error("cannot assign nil to " + (p ? param_name(*p) : std::string("<nil>")));
      case NodeType::kField: {
        // Go passes the field's own node as its only word, so it is not taken for a call.
        const Node* self = &n;
        return validate_type(eval_field_chain(dot, dot, n, n.idents, Args(&self, 1), std::nullopt),
                             p);
      }
      case NodeType::kVariable:
        return validate_type(eval_variable(dot, n, {}, std::nullopt), p);
      case NodeType::kPipe:
        return validate_type(eval_pipeline(dot, n), p);
      case NodeType::kIdentifier:
        return validate_type(eval_function(dot, n, n, {}, std::nullopt), p);
      case NodeType::kChain:
        return validate_type(eval_chain(dot, n, {}, std::nullopt), p);
      default:
        break;
    }
    switch (*p) {
      case Param::kString:
        if (n.type == NodeType::kString) return Value::of_string(n.text);
        error("expected string; found " + n.source);
      case Param::kInt:
        if (n.type == NodeType::kNumber && n.number.is_int) {
          return Value::of_int(n.number.int_value);
        }
        error("expected integer; found " + n.source);
      case Param::kAny:
      case Param::kReflect:
        if (n.type == NodeType::kBool) return Value::of_bool(n.truth);
        if (n.type == NodeType::kNumber) return ideal_constant(n);
        if (n.type == NodeType::kString) return Value::of_string(n.text);
        error("can't handle assignment of " + n.source + " to empty interface argument");
      default:
        error("can't handle " + n.source + " for arg of type " + param_name(*p));
    }
  }

  Value validate_type(const Value& v, std::optional<Param> p) {
    if (!p) return v;
    if (v.kind == Kind::kInvalid) {
      if (can_be_nil(*p)) return zero_of(*p);
      error("invalid value; expected " + param_name(*p));
    }
    bool ok = false;
    switch (*p) {
      case Param::kAny: case Param::kReflect: ok = true; break;
      case Param::kString: ok = v.kind == Kind::kString; break;
      case Param::kInt: ok = v.kind == Kind::kInt; break;
      case Param::kStrings: ok = v.kind == Kind::kStrings; break;
      case Param::kKeyMod: ok = v.kind == Kind::kNil; break;
    }
    if (!ok) {
      error("wrong type for value; expected " + param_name(*p) + "; got " + type_name(v));
    }
    return v;
  }

  const TemplateData data_;  // its functions called once (called_once)
  WorkMeter meter_;
  Value root_;
  std::vector<Variable> vars_;
  const Node* node_ = nullptr;
  ValueText out_{"a tag"};
};

}  // namespace

std::string execute(const Node& root, const TemplateData& data, Template::Work& work) {
  return Executor(data, work).run(root);
}

}  // namespace logguard::tag
