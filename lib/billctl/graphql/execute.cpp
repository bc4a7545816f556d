// Validation rules of §5 that a schema without interfaces and unions needs, variable coercion
// (§6.1.2), the depth and complexity limits, and execution with null propagation (§6.4.4).
#include "billctl/graphql/execute.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace billctl::graphql {

namespace {

const char* const k_validation = "GRAPHQL_VALIDATION_FAILED";

// The definition of a field named on `parent`, including the meta fields (§4.1, §4.2).
struct MetaFields {
  FieldDefinition typename_field, schema_field, type_field;
  MetaFields() {
    typename_field.name = "__typename";
    typename_field.type = parse_type("String!");
    schema_field.name = "__schema";
    schema_field.type = parse_type("__Schema!");
    type_field.name = "__type";
    type_field.type = parse_type("__Type");
    InputValueDefinition n;
    n.name = "name";
    n.type = parse_type("String!");
    type_field.args.push_back(n);
  }
};
const MetaFields& meta() {
  static const MetaFields m;
  return m;
}

const FieldDefinition* field_of(const Schema& s, const TypeDefinition& parent, const std::string& name) {
  if (name == "__typename") return &meta().typename_field;
  if (parent.name == s.query_type()) {
    if (name == "__schema") return &meta().schema_field;
    if (name == "__type") return &meta().type_field;
  }
  return s.field(parent, name);
}

// The root type an operation of kind `k` runs on (empty when the schema has none).
const std::string& root_type(const Schema& s, Operation::Kind k) {
  return k == Operation::Kind::query ? s.query_type() : k == Operation::Kind::mutation ? s.mutation_type() : s.subscription_type();
}

// A field's arguments coerced to their types, defaults applied; a missing required one is a FieldError.
Json coerce_arguments(const Schema& s, const FieldDefinition& def, const Selection& sel, const Json& vars) {
  Json args = Json::object();
  for (const auto& a : def.args) {
    const Value* given = nullptr;
    for (const auto& [k, v] : sel.args)
      if (k == a.name) given = &v;
    if (given && !(given->kind == Value::Kind::variable && !vars.contains(given->text)))
      args[a.name] = coerce_literal(s, *given, a.type, vars);
    else if (a.default_value)
      args[a.name] = coerce_literal(s, *a.default_value, a.type, vars);
    else if (a.type.required())
      throw FieldError(fmt::format("argument '{}' of required type {} was not provided", a.name, a.type.text()), "BAD_USER_INPUT");
  }
  return args;
}

// Is a variable of type `var` allowed where `loc` is expected (§5.8.5)? A location with a default
// accepts a nullable variable of the same type.
bool fits(const TypeRef& var, const TypeRef& loc, bool loc_has_default) {
  if (loc.kind == TypeRef::Kind::non_null && var.kind != TypeRef::Kind::non_null) {
    if (!loc_has_default) return false;
    return fits(var, *loc.of, false);
  }
  if (var.kind == TypeRef::Kind::non_null) return fits(*var.of, loc.kind == TypeRef::Kind::non_null ? *loc.of : loc, false);
  if (loc.kind == TypeRef::Kind::list) return var.kind == TypeRef::Kind::list && fits(*var.of, *loc.of, false);
  return var.kind == TypeRef::Kind::named && var.name == loc.name;
}

class Validator {
 public:
  Validator(const Schema& s, const Document& d) : m_s(s), m_d(d) {}

  void run() {
    std::set<std::string> names;
    size_t anonymous = 0;
    for (const auto& op : m_d.operations) {
      if (op.name.empty()) ++anonymous;
      else if (!names.insert(op.name).second) error(fmt::format("There can be only one operation named \"{}\".", op.name), op.loc);
    }
    if (anonymous && m_d.operations.size() > 1)
      error("This anonymous operation must be the only defined operation.", m_d.operations.front().loc);
    std::set<std::string> fragment_names;
    for (const auto& f : m_d.fragments) {
      if (!fragment_names.insert(f.name).second) error(fmt::format("There can be only one fragment named \"{}\".", f.name), f.loc);
      m_fragments[f.name] = &f;
    }
    for (const auto& f : m_d.fragments) {
      const TypeDefinition* t = m_s.type(f.type_condition);
      if (!t) {
        error(fmt::format("Unknown type \"{}\".", f.type_condition), f.loc);
        continue;
      }
      if (t->kind != TypeDefinition::Kind::object)
        error(fmt::format("Fragment \"{}\" cannot condition on non composite type \"{}\".", f.name, f.type_condition), f.loc);
    }
    check_cycles();
    for (const auto& op : m_d.operations) operation(op);
    for (const auto& f : m_d.fragments)
      if (!m_used_fragments.count(f.name)) error(fmt::format("Fragment \"{}\" is never used.", f.name), f.loc);
    if (!m_errors.empty()) throw ValidationFailed(m_errors);
  }

 private:
  void error(const std::string& message, const Location& at) { m_errors.emplace_back(message, std::vector<Location>{at}, k_validation); }

  void check_cycles() {
    std::map<std::string, int> state;  // 1 visiting, 2 done
    std::function<void(const Fragment&)> visit;
    std::function<void(const SelectionSet&, const Fragment&)> walk = [&](const SelectionSet& set, const Fragment& from) {
      for (const auto& sel : set) {
        if (sel.kind == Selection::Kind::spread) {
          auto it = m_fragments.find(sel.name);
          if (it == m_fragments.end()) continue;
          if (state[sel.name] == 1) {
            error(fmt::format("Cannot spread fragment \"{}\" within itself.", sel.name), sel.loc);
            m_cyclic = true;
          } else if (state[sel.name] == 0) {
            visit(*it->second);
          }
        } else {
          walk(sel.selections, from);
        }
      }
    };
    visit = [&](const Fragment& f) {
      state[f.name] = 1;
      walk(f.selections, f);
      state[f.name] = 2;
    };
    for (const auto& f : m_d.fragments)
      if (state[f.name] == 0) visit(f);
  }

  void operation(const Operation& op) {
    const std::string& root = root_type(m_s, op.kind);
    if (root.empty()) {
      error(fmt::format("Schema is not configured for {}s.",
                        op.kind == Operation::Kind::mutation ? "mutation" : "subscription"),
            op.loc);
      return;
    }
    m_vars.clear();
    m_used_vars.clear();
    for (const auto& v : op.variables) {
      if (m_vars.count(v.name)) error(fmt::format("There can be only one variable named \"${}\".", v.name), v.loc);
      m_vars[v.name] = &v;
      const TypeDefinition* t = m_s.type(v.type.base());
      if (!t) error(fmt::format("Unknown type \"{}\".", v.type.base()), v.loc);
      else if (!Schema::is_input(*t))
        error(fmt::format("Variable \"${}\" cannot be non-input type \"{}\".", v.name, v.type.text()), v.loc);
      else if (v.default_value)
        literal(*v.default_value, v.type, v.loc);
    }
    directives(op.directives, "operation");
    m_visited.clear();
    const TypeDefinition& t = *m_s.type(root);
    selections(t, op.selections);
    if (op.kind == Operation::Kind::subscription) {
      std::vector<std::string> roots;
      collect_names(t, op.selections, roots);
      if (roots.size() != 1)
        error(fmt::format("{} must select only one top level field.",
                          op.name.empty() ? std::string("Anonymous Subscription") : "Subscription \"" + op.name + "\""),
              op.loc);
    }
    for (const auto& v : op.variables)
      if (!m_used_vars.count(v.name))
        error(fmt::format("Variable \"${}\" is never used{}.", v.name, op.name.empty() ? "" : " in operation \"" + op.name + "\""), v.loc);
  }

  void collect_names(const TypeDefinition& t, const SelectionSet& set, std::vector<std::string>& out) {
    for (const auto& sel : set) {
      if (sel.kind == Selection::Kind::field) {
        if (std::find(out.begin(), out.end(), sel.response_name()) == out.end()) out.push_back(sel.response_name());
      } else if (sel.kind == Selection::Kind::inline_fragment) {
        collect_names(t, sel.selections, out);
      } else if (auto it = m_fragments.find(sel.name); it != m_fragments.end() && !m_cyclic) {
        collect_names(t, it->second->selections, out);
      }
    }
  }

  void directives(const std::vector<Directive>& ds, const char* where) {
    std::set<std::string> seen;
    for (const auto& d : ds) {
      if (!seen.insert(d.name).second) error(fmt::format("The directive \"@{}\" can only be used once at this location.", d.name), d.loc);
      if (d.name != "skip" && d.name != "include") {
        error(fmt::format("Unknown directive \"@{}\".", d.name), d.loc);
        continue;
      }
      if (std::string_view(where) == "operation") {
        error(fmt::format("Directive \"@{}\" may not be used on an operation.", d.name), d.loc);
        continue;
      }
      InputValueDefinition cond;
      cond.name = "if";
      cond.type = parse_type("Boolean!");
      arguments(d.args, {cond}, "directive \"@" + d.name + "\"", d.loc);
    }
  }

  void arguments(const Arguments& given, const std::vector<InputValueDefinition>& defs, const std::string& owner, const Location& at) {
    std::set<std::string> seen;
    for (const auto& [name, v] : given) {
      if (!seen.insert(name).second) error(fmt::format("There can be only one argument named \"{}\".", name), v.loc);
      const InputValueDefinition* def = nullptr;
      for (const auto& d : defs)
        if (d.name == name) def = &d;
      if (!def) {
        error(fmt::format("Unknown argument \"{}\" on {}.", name, owner), v.loc);
        continue;
      }
      value(v, def->type, def->default_value.has_value());
    }
    for (const auto& d : defs)
      if (d.type.required() && !d.default_value && !seen.count(d.name))
        error(fmt::format("Argument \"{}\" of type \"{}\" is required, but it was not provided (on {}).", d.name, d.type.text(), owner), at);
  }

  // Variables are checked for use and type; literals are coerced to find values that do not fit.
  void value(const Value& v, const TypeRef& type, bool has_default) {
    if (v.kind == Value::Kind::variable) {
      m_used_vars.insert(v.text);
      auto it = m_vars.find(v.text);
      if (it == m_vars.end()) {
        error(fmt::format("Variable \"${}\" is not defined.", v.text), v.loc);
        return;
      }
      const VariableDefinition& def = *it->second;
      if (!fits(def.type, type, has_default || def.default_value.has_value()))
        error(fmt::format("Variable \"${}\" of type \"{}\" used in position expecting type \"{}\".", v.text, def.type.text(), type.text()), v.loc);
      return;
    }
    if (v.kind == Value::Kind::list || v.kind == Value::Kind::object) {
      // Walk into the value so that variables inside are checked too.
      TypeRef inner = type.kind == TypeRef::Kind::non_null ? *type.of : type;
      if (v.kind == Value::Kind::list && inner.kind == TypeRef::Kind::list) {
        for (const auto& item : v.list) value(item, *inner.of, false);
        return;
      }
      if (v.kind == Value::Kind::object && inner.kind == TypeRef::Kind::named) {
        const TypeDefinition* t = m_s.type(inner.name);
        if (t && t->kind == TypeDefinition::Kind::input_object) {
          for (const auto& [k, fv] : v.fields) {
            for (const auto& f : t->input_fields)
              if (f.name == k) value(fv, f.type, f.default_value.has_value());
          }
          literal_shape(v, type);
          return;
        }
      }
    }
    literal(v, type, v.loc);
  }

  // Object literals with variables inside: check the fields without resolving the variables.
  void literal_shape(const Value& v, const TypeRef& type) {
    const TypeDefinition* t = m_s.type(type.base());
    std::set<std::string> seen;
    for (const auto& [k, fv] : v.fields) {
      bool known = false;
      for (const auto& f : t->input_fields) known = known || f.name == k;
      if (!known) error(fmt::format("Field \"{}\" is not defined by type \"{}\".", k, t->name), fv.loc);
      seen.insert(k);
    }
    for (const auto& f : t->input_fields)
      if (f.type.required() && !f.default_value && !seen.count(f.name))
        error(fmt::format("Field \"{}.{}\" of required type \"{}\" was not provided.", t->name, f.name, f.type.text()), v.loc);
  }

  void literal(const Value& v, const TypeRef& type, const Location& at) {
    if (contains_variable(v)) return;
    try {
      coerce_literal(m_s, v, type, Json::object());
    } catch (const RequestError& e) {
      error(fmt::format("Expected value of type \"{}\", found {}; {}", type.text(), v.source(), e.what()), at);
    }
  }

  static std::string args_source(const Arguments& args) {
    Value v;
    v.kind = Value::Kind::object;
    v.fields = args;
    return v.source();
  }

  static bool contains_variable(const Value& v) {
    if (v.kind == Value::Kind::variable) return true;
    for (const auto& i : v.list)
      if (contains_variable(i)) return true;
    for (const auto& [k, f] : v.fields)
      if (contains_variable(f)) return true;
    return false;
  }

  void selections(const TypeDefinition& parent, const SelectionSet& set) {
    // Fields with the same response name must be the same field with the same arguments (§5.3.2).
    std::map<std::string, const Selection*> by_name;
    merge_check(parent, set, by_name);
    for (const auto& sel : set) {
      directives(sel.directives, "field");
      switch (sel.kind) {
        case Selection::Kind::field: field(parent, sel); break;
        case Selection::Kind::inline_fragment: {
          const TypeDefinition* t = &parent;
          if (!sel.type_condition.empty()) {
            t = m_s.type(sel.type_condition);
            if (!t) {
              error(fmt::format("Unknown type \"{}\".", sel.type_condition), sel.loc);
              break;
            }
            if (t->name != parent.name) {
              error(fmt::format("Fragment cannot be spread here as objects of type \"{}\" can never be of type \"{}\".", parent.name, t->name), sel.loc);
              break;
            }
          }
          selections(*t, sel.selections);
          break;
        }
        case Selection::Kind::spread: {
          auto it = m_fragments.find(sel.name);
          if (it == m_fragments.end()) {
            error(fmt::format("Unknown fragment \"{}\".", sel.name), sel.loc);
            break;
          }
          m_used_fragments.insert(sel.name);
          const Fragment& f = *it->second;
          const TypeDefinition* t = m_s.type(f.type_condition);
          if (!t) break;
          if (t->name != parent.name) {
            error(fmt::format("Fragment \"{}\" cannot be spread here as objects of type \"{}\" can never be of type \"{}\".", f.name, parent.name, t->name), sel.loc);
            break;
          }
          if (m_cyclic) break;
          // A fragment's selections are checked once per type and variable scope of an operation.
          if (m_visited.insert(f.name).second) {
            directives(f.directives, "field");
            selections(*t, f.selections);
          }
          break;
        }
      }
    }
  }

  void merge_check(const TypeDefinition& parent, const SelectionSet& set, std::map<std::string, const Selection*>& by_name,
                   int depth = 0) {
    if (depth > 32) return;
    for (const auto& sel : set) {
      if (sel.kind == Selection::Kind::field) {
        auto [it, fresh] = by_name.emplace(sel.response_name(), &sel);
        if (fresh) continue;
        const Selection& other = *it->second;
        std::string why;
        if (other.name != sel.name) why = fmt::format("\"{}\" and \"{}\" are different fields", other.name, sel.name);
        else if (args_source(other.args) != args_source(sel.args))
          why = "they have differing arguments";
        if (!why.empty())
          error(fmt::format("Fields \"{}\" conflict because {}. Use different aliases on the fields to fetch both if this was intentional.", sel.response_name(), why), sel.loc);
      } else if (sel.kind == Selection::Kind::inline_fragment) {
        merge_check(parent, sel.selections, by_name, depth + 1);
      } else if (auto it = m_fragments.find(sel.name); it != m_fragments.end() && !m_cyclic) {
        merge_check(parent, it->second->selections, by_name, depth + 1);
      }
    }
  }

  void field(const TypeDefinition& parent, const Selection& sel) {
    const FieldDefinition* f = field_of(m_s, parent, sel.name);
    if (!f) {
      error(fmt::format("Cannot query field \"{}\" on type \"{}\".", sel.name, parent.name), sel.loc);
      return;
    }
    arguments(sel.args, f->args, fmt::format("field \"{}.{}\"", parent.name, f->name), sel.loc);
    const TypeDefinition* t = m_s.type(f->type.base());
    if (!t) return;
    if (Schema::is_leaf(*t)) {
      if (!sel.selections.empty())
        error(fmt::format("Field \"{}\" must not have a selection since type \"{}\" has no subfields.", sel.name, f->type.text()), sel.loc);
      return;
    }
    if (sel.selections.empty()) {
      error(fmt::format("Field \"{}\" of type \"{}\" must have a selection of subfields. Did you mean \"{} {{ ... }}\"?", sel.name, f->type.text(), sel.name), sel.loc);
      return;
    }
    selections(*t, sel.selections);
  }

  const Schema& m_s;
  const Document& m_d;
  std::map<std::string, const Fragment*> m_fragments;
  std::map<std::string, const VariableDefinition*> m_vars;
  std::set<std::string> m_used_vars, m_used_fragments, m_visited;
  bool m_cyclic = false;
  std::vector<RequestError> m_errors;
};

// Fields of a selection set grouped by response name, in order (§6.3.2 CollectFields).
using FieldGroups = std::vector<std::pair<std::string, std::vector<const Selection*>>>;

class Executor {
 public:
  Executor(const Schema& s, const Document& d, const Json& vars, void* ctx) : m_s(s), m_vars(vars), m_ctx(ctx) {
    for (const auto& f : d.fragments) m_fragments[f.name] = &f;
  }

  Json run(const Operation& op) {
    const std::string& root = root_type(m_s, op.kind);
    Json data;
    try {
      data = selection_set(*m_s.type(root), Json(nullptr), op.selections, Json::array());
    } catch (const Bubble&) {
      data = nullptr;
    }
    Json out;
    if (!m_errors.empty()) out["errors"] = m_errors;
    out["data"] = data;
    return out;
  }

  // Is the field included, given @skip and @include (§3.13)?
  bool included(const std::vector<Directive>& ds) const {
    for (const auto& d : ds) {
      bool cond = false;
      for (const auto& [k, v] : d.args)
        if (k == "if") cond = coerce_literal(m_s, v, parse_type("Boolean!"), m_vars).get<bool>();
      if (d.name == "skip" && cond) return false;
      if (d.name == "include" && !cond) return false;
    }
    return true;
  }

  void collect(const TypeDefinition& t, const SelectionSet& set, FieldGroups& out, std::set<std::string>& visited) const {
    for (const auto& sel : set) {
      if (!included(sel.directives)) continue;
      if (sel.kind == Selection::Kind::field) {
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == sel.response_name(); });
        if (it == out.end()) out.push_back({sel.response_name(), {&sel}});
        else it->second.push_back(&sel);
      } else if (sel.kind == Selection::Kind::inline_fragment) {
        if (sel.type_condition.empty() || sel.type_condition == t.name) collect(t, sel.selections, out, visited);
      } else {
        if (!visited.insert(sel.name).second) continue;
        const Fragment& f = *m_fragments.at(sel.name);
        if (f.type_condition == t.name && included(f.directives)) collect(t, f.selections, out, visited);
      }
    }
  }

 private:
  struct Bubble {};  // a null in a non-null position, propagating to the nearest nullable field

  Json selection_set(const TypeDefinition& t, const Json& value, const SelectionSet& set, const Json& path) {
    FieldGroups groups;
    std::set<std::string> visited;
    collect(t, set, groups, visited);
    Json out = Json::object();
    for (const auto& [name, fields] : groups) {
      Json p = path;
      p.push_back(name);
      out[name] = field(t, value, fields, p);
    }
    return out;
  }

  void add_error(const std::string& message, const Selection& at, const Json& path, const std::string& code) {
    Json e = error_entry(message, {at.loc}, code);
    e["path"] = path;
    // Order as the spec shows: message, locations, path, extensions.
    Json ordered;
    ordered["message"] = e["message"];
    ordered["locations"] = e["locations"];
    ordered["path"] = path;
    ordered["extensions"] = e["extensions"];
    m_errors.push_back(ordered);
  }

  Json field(const TypeDefinition& parent, const Json& value, const std::vector<const Selection*>& fields, const Json& path) {
    const Selection& sel = *fields.front();
    if (sel.name == "__typename") return parent.name;
    const FieldDefinition* def = field_of(m_s, parent, sel.name);
    Json result;
    try {
      Json args = coerce_arguments(m_s, *def, sel, m_vars);
      if (sel.name == "__schema") {
        result = Json::object();
      } else if (sel.name == "__type") {
        std::string n = args["name"].get<std::string>();
        result = m_s.type(n) ? Json{{"ref", n}} : Json(nullptr);
      } else if (const Resolver* r = m_s.resolver(parent.name, sel.name)) {
        ResolveInfo info{value, args, m_ctx, sel, m_s};
        result = (*r)(info);
      } else if (value.is_object() && value.contains(sel.name)) {
        result = value[sel.name];
      }
    } catch (const FieldError& e) {
      add_error(e.what(), sel, path, e.code);
      if (def->type.required()) throw Bubble{};
      return nullptr;
    } catch (const RequestError& e) {
      add_error(e.what(), sel, path, e.code);
      if (def->type.required()) throw Bubble{};
      return nullptr;
    }
    try {
      return complete(def->type, result, fields, path);
    } catch (const Bubble&) {
      if (def->type.required()) throw;
      return nullptr;
    }
  }

  Json complete(const TypeRef& type, const Json& result, const std::vector<const Selection*>& fields, const Json& path) {
    if (type.kind == TypeRef::Kind::non_null) {
      if (result.is_null()) {
        add_error(fmt::format("Cannot return null for non-nullable field {}.", fields.front()->name), *fields.front(), path,
                  "INTERNAL_SERVER_ERROR");
        throw Bubble{};
      }
      return complete(*type.of, result, fields, path);
    }
    if (result.is_null()) return nullptr;
    if (type.kind == TypeRef::Kind::list) {
      if (!result.is_array()) {
        add_error("Expected a list for field " + fields.front()->name + ".", *fields.front(), path, "INTERNAL_SERVER_ERROR");
        throw Bubble{};
      }
      Json out = Json::array();
      for (size_t i = 0; i < result.size(); ++i) {
        Json p = path;
        p.push_back(i);
        try {
          out.push_back(complete(*type.of, result[i], fields, p));
        } catch (const Bubble&) {
          if (type.of->required()) throw;
          out.push_back(nullptr);
        }
      }
      return out;
    }
    const TypeDefinition& t = *m_s.type(type.name);
    if (Schema::is_leaf(t)) return result;
    SelectionSet merged;
    for (const Selection* f : fields) merged.insert(merged.end(), f->selections.begin(), f->selections.end());
    return selection_set(t, result, merged, path);
  }

  const Schema& m_s;
  const Json& m_vars;
  void* m_ctx;
  std::map<std::string, const Fragment*> m_fragments;
  Json m_errors = Json::array();
};

// Depth and complexity of an operation, fragments expanded (§ none: a server's own limits).
struct CostWalker {
  const Schema& s;
  const std::map<std::string, const Fragment*>& fragments;
  const Json& vars;
  const Limits& limits;

  // Introspection is answered from memory and its lists are as long as the schema is: they count
  // once, but a path may pass through at most three of them (the standard introspection query's
  // types > fields > args); deeper, types > fields > type > fields > ..., is refused as too complex.
  static constexpr int k_max_introspection_lists = 3;
  bool too_complex = false;

  int64_t walk(const TypeDefinition& parent, const SelectionSet& set, int depth, int& max_depth, int intro_lists = 0) {
    if (depth > max_depth) max_depth = depth;
    if (depth > limits.max_depth) return 0;
    int64_t total = 0;
    for (const auto& sel : set) {
      if (sel.kind == Selection::Kind::spread) {
        auto it = fragments.find(sel.name);
        if (it != fragments.end()) total += walk(parent, it->second->selections, depth, max_depth, intro_lists);
        continue;
      }
      if (sel.kind == Selection::Kind::inline_fragment) {
        total += walk(parent, sel.selections, depth, max_depth, intro_lists);
        continue;
      }
      const FieldDefinition* f = field_of(s, parent, sel.name);
      if (!f) continue;
      int64_t cost = 1;
      if (!sel.selections.empty()) {
        int64_t items = 1;
        int lists = intro_lists;
        const TypeRef* t = &f->type;
        if (t->kind == TypeRef::Kind::non_null) t = t->of.get();
        if (t->kind == TypeRef::Kind::list && parent.name.rfind("__", 0) == 0) {
          if (++lists > k_max_introspection_lists) too_complex = true;
        } else if (t->kind == TypeRef::Kind::list) {
          items = limits.list_size;
          for (const auto& [k, v] : sel.args) {
            if (k != "limit" && k != "first") continue;
            if (v.kind == Value::Kind::integer) items = std::max<int64_t>(1, std::strtoll(v.text.c_str(), nullptr, 10));
            else if (v.kind == Value::Kind::variable && vars.contains(v.text) && vars[v.text].is_number_integer())
              items = std::max<int64_t>(1, vars[v.text].get<int64_t>());
          }
        }
        const TypeDefinition* child = s.type(f->type.base());
        int64_t sub = child ? walk(*child, sel.selections, depth + 1, max_depth, lists) : 0;
        cost += std::min<int64_t>(items * sub, int64_t(1) << 40);
      }
      total = std::min<int64_t>(total + cost, int64_t(1) << 50);
    }
    return total;
  }
};

}  // namespace

Json error_entry(const std::string& message, const std::vector<Location>& locations, const std::string& code) {
  Json e;
  e["message"] = message;
  if (!locations.empty() && locations.front().line > 0) {
    Json locs = Json::array();
    for (const auto& l : locations) locs.push_back(Json{{"line", l.line}, {"column", l.column}});
    e["locations"] = locs;
  }
  e["extensions"] = Json{{"code", code}};
  return e;
}

Prepared::Prepared(const Schema& s, const Request& r, const Limits& limits) : m_schema(s) {
  if (r.query.size() > limits.max_bytes)
    throw RequestError(fmt::format("query is {} bytes, more than the limit of {}", r.query.size(), limits.max_bytes), {},
                       "QUERY_TOO_LARGE");
  m_doc = parse(r.query, true);
  Validator(s, m_doc).run();
  for (const auto& op : m_doc.operations) {
    if (r.operation_name.empty() || op.name == r.operation_name) {
      if (m_op && r.operation_name.empty())
        throw RequestError("Must provide operation name if query contains multiple operations.", {}, "BAD_USER_INPUT");
      m_op = &op;
    }
  }
  if (!m_op) throw RequestError("Unknown operation named \"" + r.operation_name + "\".", {}, "BAD_USER_INPUT");
  if (!r.variables.is_null() && !r.variables.is_object())
    throw RequestError("variables must be an object", {}, "BAD_USER_INPUT");
  m_variables = Json::object();
  for (const auto& v : m_op->variables) {
    std::string where = "$" + v.name;
    if (r.variables.is_object() && r.variables.contains(v.name)) {
      try {
        m_variables[v.name] = coerce_input(s, r.variables[v.name], v.type, where);
      } catch (const RequestError& e) {
        throw RequestError(std::string("Variable \"") + where + "\" got invalid value: " + e.what(), {v.loc}, "BAD_USER_INPUT");
      }
    } else if (v.default_value) {
      m_variables[v.name] = coerce_literal(s, *v.default_value, v.type, Json::object());
    } else if (v.type.required()) {
      throw RequestError(fmt::format("Variable \"{}\" of required type \"{}\" was not provided.", where, v.type.text()),
                         {v.loc}, "BAD_USER_INPUT");
    }
  }
  std::map<std::string, const Fragment*> fragments;
  for (const auto& f : m_doc.fragments) fragments[f.name] = &f;
  CostWalker w{s, fragments, m_variables, limits};
  const std::string& root = root_type(s, kind());
  m_cost.complexity = w.walk(*s.type(root), m_op->selections, 1, m_cost.depth);
  if (w.too_complex) m_cost.complexity = std::max(m_cost.complexity, limits.max_complexity + 1);
  if (m_cost.depth > limits.max_depth)
    throw RequestError(fmt::format("query is nested {} levels deep, more than the limit of {}", m_cost.depth, limits.max_depth),
                       {m_op->loc}, "QUERY_TOO_DEEP");
  if (m_cost.complexity > limits.max_complexity)
    throw RequestError(fmt::format("query complexity {} is more than the limit of {}", m_cost.complexity, limits.max_complexity),
                       {m_op->loc}, "QUERY_TOO_COMPLEX");
}

Prepared::~Prepared() = default;

Operation::Kind Prepared::kind() const { return m_op->kind; }

Json Prepared::run(void* context) const { return Executor(m_schema, m_doc, m_variables, context).run(*m_op); }

Json Prepared::root_arguments() const {
  const TypeDefinition& t = *m_schema.type(root_type(m_schema, kind()));
  Executor e(m_schema, m_doc, m_variables, nullptr);
  FieldGroups groups;
  std::set<std::string> visited;
  e.collect(t, m_op->selections, groups, visited);
  Json args = Json::object();
  if (groups.empty()) return args;
  const Selection& sel = *groups.front().second.front();
  const FieldDefinition* def = field_of(m_schema, t, sel.name);
  return def ? coerce_arguments(m_schema, *def, sel, m_variables) : args;
}

Json execute(const Schema& s, const Request& r, const Limits& limits, void* context) {
  try {
    Prepared p(s, r, limits);
    return p.run(context);
  } catch (const ValidationFailed& e) {
    Json out;
    out["errors"] = Json::array();
    for (const auto& one : e.all) out["errors"].push_back(error_entry(one.what(), one.locations, one.code));
    return out;
  } catch (const RequestError& e) {
    Json out;
    out["errors"] = Json::array({error_entry(e.what(), e.locations, e.code)});
    return out;
  }
}

Request request_from_json(const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const std::exception& e) {
    throw RequestError(std::string("the body is not JSON: ") + e.what(), {}, "BAD_REQUEST");
  }
  if (!j.is_object()) throw RequestError("the body must be a JSON object with a \"query\"", {}, "BAD_REQUEST");
  Request r;
  if (!j.contains("query") || !j["query"].is_string()) throw RequestError("\"query\" must be a string", {}, "BAD_REQUEST");
  r.query = j["query"].get<std::string>();
  if (j.contains("operationName") && !j["operationName"].is_null()) {
    if (!j["operationName"].is_string()) throw RequestError("\"operationName\" must be a string", {}, "BAD_REQUEST");
    r.operation_name = j["operationName"].get<std::string>();
  }
  if (j.contains("variables") && !j["variables"].is_null()) {
    if (!j["variables"].is_object()) throw RequestError("\"variables\" must be an object", {}, "BAD_REQUEST");
    r.variables = j["variables"];
  }
  return r;
}

}  // namespace billctl::graphql
