// Schema construction, input coercion, the SDL printer, and introspection (§4) as ordinary types
// whose resolvers read the schema.
#include "billctl/graphql/schema.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

namespace billctl::graphql {

namespace {

constexpr std::string_view k_builtins = R"(
scalar Int
scalar Float
scalar String
scalar Boolean
scalar ID
)";

// §4.5, June 2018.
constexpr std::string_view k_introspection = R"(
type __Schema {
  types: [__Type!]!
  queryType: __Type!
  mutationType: __Type
  subscriptionType: __Type
  directives: [__Directive!]!
}
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields: [__InputValue!]
  ofType: __Type
}
type __Field {
  name: String!
  description: String
  args: [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}
type __InputValue {
  name: String!
  description: String
  type: __Type!
  defaultValue: String
}
type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
type __Directive {
  name: String!
  description: String
  locations: [__DirectiveLocation!]!
  args: [__InputValue!]!
}
enum __DirectiveLocation {
  QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT
  SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE
  INPUT_OBJECT INPUT_FIELD_DEFINITION
}
)";

[[noreturn]] void bad_input(const std::string& why) { throw RequestError(why, {}, "BAD_USER_INPUT"); }

std::string_view kind_name(TypeDefinition::Kind k) {
  switch (k) {
    case TypeDefinition::Kind::scalar: return "SCALAR";
    case TypeDefinition::Kind::object: return "OBJECT";
    case TypeDefinition::Kind::interface: return "INTERFACE";
    case TypeDefinition::Kind::union_type: return "UNION";
    case TypeDefinition::Kind::enumeration: return "ENUM";
    case TypeDefinition::Kind::input_object: return "INPUT_OBJECT";
  }
  return "SCALAR";
}

const Directive* find_directive(const std::vector<Directive>& ds, std::string_view name) {
  for (const auto& d : ds)
    if (d.name == name) return &d;
  return nullptr;
}

// isDeprecated / deprecationReason from @deprecated(reason: "...").
void deprecation(Json& out, const std::vector<Directive>& ds) {
  const Directive* d = find_directive(ds, "deprecated");
  out["isDeprecated"] = d != nullptr;
  if (!d) {
    out["deprecationReason"] = nullptr;
    return;
  }
  std::string reason = "No longer supported";
  for (const auto& [k, v] : d->args)
    if (k == "reason" && v.kind == Value::Kind::string) reason = v.text;
  out["deprecationReason"] = reason;
}

Json describe(const std::string& d) { return d.empty() ? Json(nullptr) : Json(d); }

Json type_ref(const TypeRef& t) { return Json{{"ref", t.text()}}; }

Json input_value(const InputValueDefinition& v) {
  Json j;
  j["name"] = v.name;
  j["description"] = describe(v.description);
  j["typeRef"] = v.type.text();
  j["defaultValue"] = v.default_value ? Json(v.default_value->source()) : Json(nullptr);
  return j;
}

Json input_values(const std::vector<InputValueDefinition>& vs) {
  Json out = Json::array();
  for (const auto& v : vs) out.push_back(input_value(v));
  return out;
}

bool include_deprecated(const ResolveInfo& i) {
  return i.args.contains("includeDeprecated") && i.args["includeDeprecated"].is_boolean() &&
         i.args["includeDeprecated"].get<bool>();
}

// The definition a __Type parent names, or nullptr for LIST / NON_NULL wrappers.
const TypeDefinition* named_of(const ResolveInfo& i, TypeRef& t) {
  t = parse_type(i.parent["ref"].get<std::string>());
  return t.kind == TypeRef::Kind::named ? i.schema.type(t.name) : nullptr;
}

void write_description(std::string& out, const std::string& d, const std::string& indent) {
  if (d.empty()) return;
  if (d.find('\n') == std::string::npos && d.find('"') == std::string::npos && d.find('\\') == std::string::npos) {
    out += indent + "\"" + d + "\"\n";
    return;
  }
  std::string body;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d.compare(i, 3, "\"\"\"") == 0) {
      body += "\\\"\"\"";
      i += 2;
    } else {
      body += d[i];
      if (d[i] == '\n') body += indent;
    }
  }
  out += indent + "\"\"\"\n" + indent + body + "\n" + indent + "\"\"\"\n";
}

std::string directives_text(const std::vector<Directive>& ds) {
  std::string out;
  for (const auto& d : ds) {
    out += " @" + d.name;
    if (!d.args.empty()) {
      out += "(";
      for (size_t i = 0; i < d.args.size(); ++i) out += (i ? ", " : "") + d.args[i].first + ": " + d.args[i].second.source();
      out += ")";
    }
  }
  return out;
}

std::string args_text(const std::vector<InputValueDefinition>& args) {
  if (args.empty()) return {};
  bool described = false;
  for (const auto& a : args) described = described || !a.description.empty();
  auto one = [](const InputValueDefinition& a) {
    std::string s = a.name + ": " + a.type.text();
    if (a.default_value) s += " = " + a.default_value->source();
    return s + directives_text(a.directives);
  };
  std::string out = "(";
  if (!described) {
    for (size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + one(args[i]);
    return out + ")";
  }
  out += "\n";
  for (const auto& a : args) {
    write_description(out, a.description, "    ");
    out += "    " + one(a) + "\n";
  }
  return out + "  )";
}

}  // namespace

Schema::Schema(std::string_view sdl) {
  add(parse(k_builtins, false), true);
  add(parse(k_introspection, false), true);
  Document doc = parse(sdl, false);
  add(doc, false);
  if (doc.schema) {
    m_query = doc.schema->query;
    m_mutation = doc.schema->mutation;
    m_subscription = doc.schema->subscription;
  } else {
    if (m_types.count("Mutation")) m_mutation = "Mutation";
    if (m_types.count("Subscription")) m_subscription = "Subscription";
  }
  check();
  add_introspection();
}

void Schema::add(const Document& doc, bool builtin) {
  if (!doc.operations.empty() || !doc.fragments.empty())
    throw RequestError("a schema holds type definitions only", {}, "GRAPHQL_PARSE_FAILED");
  for (const auto& t : doc.types) {
    if (m_types.count(t.name)) throw RequestError("type '" + t.name + "' is defined twice", {t.loc});
    if (!builtin) {
      if (t.name.rfind("__", 0) == 0) throw RequestError("type names starting with '__' are reserved", {t.loc});
      if (t.kind == TypeDefinition::Kind::interface || t.kind == TypeDefinition::Kind::union_type)
        throw RequestError("interfaces and unions are not supported here ('" + t.name + "')", {t.loc});
      m_order.push_back(t.name);
    }
    m_types.emplace(t.name, t);
  }
}

void Schema::check() const {
  auto need = [&](const TypeRef& ref, bool input, const std::string& where) {
    const TypeDefinition* t = type(ref.base());
    if (!t) throw RequestError(fmt::format("{} has unknown type '{}'", where, ref.base()), {});
    if (input && !is_input(*t)) throw RequestError(fmt::format("{} must have an input type, not '{}'", where, t->name), {});
    if (!input && t->kind == TypeDefinition::Kind::input_object)
      throw RequestError(fmt::format("{} must have an output type, not '{}'", where, t->name), {});
  };
  for (const auto& [name, t] : m_types) {
    for (const auto& f : t.fields) {
      need(f.type, false, name + "." + f.name);
      for (const auto& a : f.args) need(a.type, true, name + "." + f.name + "(" + a.name + ")");
    }
    for (const auto& f : t.input_fields) need(f.type, true, name + "." + f.name);
  }
  for (const std::string* root : {&m_query, &m_mutation, &m_subscription}) {
    if (root->empty()) continue;
    const TypeDefinition* t = type(*root);
    if (!t || t->kind != TypeDefinition::Kind::object)
      throw RequestError("root type '" + *root + "' is not an object type of the schema", {});
  }
}

bool Schema::is_input(const TypeDefinition& t) {
  return t.kind == TypeDefinition::Kind::scalar || t.kind == TypeDefinition::Kind::enumeration ||
         t.kind == TypeDefinition::Kind::input_object;
}

bool Schema::is_leaf(const TypeDefinition& t) {
  return t.kind == TypeDefinition::Kind::scalar || t.kind == TypeDefinition::Kind::enumeration;
}

void Schema::resolve(const std::string& type_field, Resolver r) {
  auto dot = type_field.find('.');
  const TypeDefinition* t = dot == std::string::npos ? nullptr : type(type_field.substr(0, dot));
  if (!t || !field(*t, type_field.substr(dot + 1))) throw std::logic_error("no field " + type_field + " in the schema");
  m_resolvers[type_field] = std::move(r);
}

const TypeDefinition* Schema::type(std::string_view name) const {
  auto it = m_types.find(name);
  return it == m_types.end() ? nullptr : &it->second;
}

const FieldDefinition* Schema::field(const TypeDefinition& t, std::string_view name) const {
  for (const auto& f : t.fields)
    if (f.name == name) return &f;
  return nullptr;
}

const Resolver* Schema::resolver(const std::string& type, const std::string& field) const {
  auto it = m_resolvers.find(type + "." + field);
  return it == m_resolvers.end() ? nullptr : &it->second;
}

std::vector<std::string> Schema::unresolved() const {
  std::vector<std::string> out;
  for (const std::string* root : {&m_query, &m_mutation, &m_subscription}) {
    if (root->empty()) continue;
    for (const auto& f : type(*root)->fields)
      if (!resolver(*root, f.name)) out.push_back(*root + "." + f.name);
  }
  return out;
}

std::string Schema::sdl() const {
  std::string out;
  bool standard = m_query == "Query" && (m_mutation.empty() || m_mutation == "Mutation") &&
                  (m_subscription.empty() || m_subscription == "Subscription");
  if (!standard) {
    out += "schema {\n  query: " + m_query + "\n";
    if (!m_mutation.empty()) out += "  mutation: " + m_mutation + "\n";
    if (!m_subscription.empty()) out += "  subscription: " + m_subscription + "\n";
    out += "}\n\n";
  }
  for (size_t n = 0; n < m_order.size(); ++n) {
    const TypeDefinition& t = m_types.at(m_order[n]);
    if (n) out += "\n";
    write_description(out, t.description, "");
    switch (t.kind) {
      case TypeDefinition::Kind::scalar: out += "scalar " + t.name + directives_text(t.directives) + "\n"; break;
      case TypeDefinition::Kind::enumeration:
        out += "enum " + t.name + directives_text(t.directives) + " {\n";
        for (const auto& v : t.values) {
          write_description(out, v.description, "  ");
          out += "  " + v.name + directives_text(v.directives) + "\n";
        }
        out += "}\n";
        break;
      case TypeDefinition::Kind::input_object:
        out += "input " + t.name + directives_text(t.directives) + " {\n";
        for (const auto& f : t.input_fields) {
          write_description(out, f.description, "  ");
          out += "  " + f.name + ": " + f.type.text();
          if (f.default_value) out += " = " + f.default_value->source();
          out += directives_text(f.directives) + "\n";
        }
        out += "}\n";
        break;
      default:
        out += "type " + t.name + directives_text(t.directives) + " {\n";
        for (const auto& f : t.fields) {
          write_description(out, f.description, "  ");
          out += "  " + f.name + args_text(f.args) + ": " + f.type.text() + directives_text(f.directives) + "\n";
        }
        out += "}\n";
    }
  }
  return out;
}

void Schema::add_introspection() {
  resolve("__Schema.types", [](const ResolveInfo& i) {
    Json out = Json::array();
    for (const auto& [name, t] : i.schema.types()) out.push_back(Json{{"ref", name}});
    return out;
  });
  resolve("__Schema.queryType", [](const ResolveInfo& i) { return Json{{"ref", i.schema.query_type()}}; });
  auto root = [](const std::string& name) { return name.empty() ? Json(nullptr) : Json{{"ref", name}}; };
  resolve("__Schema.mutationType", [root](const ResolveInfo& i) { return root(i.schema.mutation_type()); });
  resolve("__Schema.subscriptionType", [root](const ResolveInfo& i) { return root(i.schema.subscription_type()); });
  resolve("__Schema.directives", [](const ResolveInfo&) {
    Json out = Json::array();
    auto cond = [](const char* name, const char* desc) {
      Json d;
      d["name"] = name;
      d["description"] = desc;
      d["locations"] = Json::array({"FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"});
      Json arg;
      arg["name"] = "if";
      arg["description"] = name[0] == 's' ? "Skipped when true." : "Included when true.";
      arg["typeRef"] = "Boolean!";
      arg["defaultValue"] = nullptr;
      d["args"] = Json::array({arg});
      return d;
    };
    out.push_back(cond("include", "Directs the executor to include this field or fragment only when the `if` argument is true."));
    out.push_back(cond("skip", "Directs the executor to skip this field or fragment when the `if` argument is true."));
    Json dep;
    dep["name"] = "deprecated";
    dep["description"] = "Marks an element of a GraphQL schema as no longer supported.";
    dep["locations"] = Json::array({"FIELD_DEFINITION", "ENUM_VALUE"});
    Json reason;
    reason["name"] = "reason";
    reason["description"] = "Explains why this element was deprecated.";
    reason["typeRef"] = "String";
    reason["defaultValue"] = "\"No longer supported\"";
    dep["args"] = Json::array({reason});
    out.push_back(dep);
    return out;
  });

  resolve("__Type.kind", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    if (!d) return Json(t.kind == TypeRef::Kind::list ? "LIST" : "NON_NULL");
    return Json(kind_name(d->kind));
  });
  resolve("__Type.name", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    return d ? Json(d->name) : Json(nullptr);
  });
  resolve("__Type.description", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    return d ? describe(d->description) : Json(nullptr);
  });
  resolve("__Type.fields", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    if (!d || (d->kind != TypeDefinition::Kind::object && d->kind != TypeDefinition::Kind::interface)) return Json(nullptr);
    Json out = Json::array();
    for (const auto& f : d->fields) {
      Json j;
      j["name"] = f.name;
      j["description"] = describe(f.description);
      j["args"] = input_values(f.args);
      j["typeRef"] = f.type.text();
      deprecation(j, f.directives);
      if (j["isDeprecated"].get<bool>() && !include_deprecated(i)) continue;
      out.push_back(j);
    }
    return out;
  });
  resolve("__Type.interfaces", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    return d && d->kind == TypeDefinition::Kind::object ? Json::array() : Json(nullptr);
  });
  resolve("__Type.possibleTypes", [](const ResolveInfo&) { return Json(nullptr); });
  resolve("__Type.enumValues", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    if (!d || d->kind != TypeDefinition::Kind::enumeration) return Json(nullptr);
    Json out = Json::array();
    for (const auto& v : d->values) {
      Json j;
      j["name"] = v.name;
      j["description"] = describe(v.description);
      deprecation(j, v.directives);
      if (j["isDeprecated"].get<bool>() && !include_deprecated(i)) continue;
      out.push_back(j);
    }
    return out;
  });
  resolve("__Type.inputFields", [](const ResolveInfo& i) {
    TypeRef t;
    const TypeDefinition* d = named_of(i, t);
    if (!d || d->kind != TypeDefinition::Kind::input_object) return Json(nullptr);
    return input_values(d->input_fields);
  });
  resolve("__Type.ofType", [](const ResolveInfo& i) {
    TypeRef t = parse_type(i.parent["ref"].get<std::string>());
    return t.kind == TypeRef::Kind::named ? Json(nullptr) : type_ref(*t.of);
  });
  auto type_of = [](const ResolveInfo& i) { return Json{{"ref", i.parent["typeRef"]}}; };
  resolve("__Field.type", type_of);
  resolve("__InputValue.type", type_of);
}

Json coerce_literal(const Schema& s, const Value& v, const TypeRef& type, const Json& variables) {
  if (v.kind == Value::Kind::variable) {
    // Variables were coerced to their declared types before execution; validation checked that
    // the declared type fits here. An absent nullable variable is null.
    if (!variables.contains(v.text)) {
      if (type.required()) bad_input(fmt::format("variable '${}' of a required value was not provided", v.text));
      return nullptr;
    }
    const Json& val = variables[v.text];
    if (val.is_null() && type.required()) bad_input(fmt::format("variable '${}' must not be null here", v.text));
    return val;
  }
  if (type.kind == TypeRef::Kind::non_null) {
    if (v.kind == Value::Kind::null) bad_input(fmt::format("expected a value of type {}, found null", type.text()));
    return coerce_literal(s, v, *type.of, variables);
  }
  if (v.kind == Value::Kind::null) return nullptr;
  if (type.kind == TypeRef::Kind::list) {
    Json out = Json::array();
    if (v.kind != Value::Kind::list) {
      out.push_back(coerce_literal(s, v, *type.of, variables));
      return out;
    }
    for (const auto& item : v.list) out.push_back(coerce_literal(s, item, *type.of, variables));
    return out;
  }
  const TypeDefinition* t = s.type(type.name);
  if (!t) bad_input("unknown type " + type.name);
  auto mismatch = [&]() -> Json { bad_input(fmt::format("{} cannot represent {}", type.name, v.source())); };
  switch (t->kind) {
    case TypeDefinition::Kind::enumeration:
      if (v.kind != Value::Kind::enumeration) return mismatch();
      for (const auto& e : t->values)
        if (e.name == v.text) return Json(v.text);
      bad_input(fmt::format("value '{}' does not exist in enum {}", v.text, t->name));
    case TypeDefinition::Kind::input_object: {
      if (v.kind != Value::Kind::object) return mismatch();
      Json out = Json::object();
      std::set<std::string> seen;
      for (const auto& [k, fv] : v.fields) {
        if (!seen.insert(k).second) bad_input(fmt::format("field '{}' of {} is given twice", k, t->name));
        bool known = false;
        for (const auto& f : t->input_fields) known = known || f.name == k;
        if (!known) bad_input(fmt::format("field '{}' is not defined by type {}", k, t->name));
      }
      for (const auto& f : t->input_fields) {
        const Value* given = nullptr;
        for (const auto& [k, fv] : v.fields)
          if (k == f.name) given = &fv;
        if (given && !(given->kind == Value::Kind::variable && !variables.contains(given->text))) {
          out[f.name] = coerce_literal(s, *given, f.type, variables);
        } else if (f.default_value) {
          out[f.name] = coerce_literal(s, *f.default_value, f.type, variables);
        } else if (f.type.required()) {
          bad_input(fmt::format("field '{}.{}' of required type {} was not provided", t->name, f.name, f.type.text()));
        }
      }
      return out;
    }
    default: break;
  }
  if (type.name == "Int") {
    if (v.kind != Value::Kind::integer) return mismatch();
    errno = 0;
    long long n = std::strtoll(v.text.c_str(), nullptr, 10);
    if (errno == ERANGE || n > std::numeric_limits<int32_t>::max() || n < std::numeric_limits<int32_t>::min())
      bad_input(fmt::format("Int cannot represent non 32-bit signed integer value: {}", v.text));
    return Json(n);
  }
  if (type.name == "Long") {  // a 64-bit integer scalar, as schemas commonly define one
    if (v.kind != Value::Kind::integer) return mismatch();
    errno = 0;
    long long n = std::strtoll(v.text.c_str(), nullptr, 10);
    if (errno == ERANGE) bad_input("Long cannot represent " + v.text);
    return Json(int64_t(n));
  }
  if (type.name == "Float") {
    if (v.kind != Value::Kind::integer && v.kind != Value::Kind::floating) return mismatch();
    double d = std::strtod(v.text.c_str(), nullptr);
    if (!std::isfinite(d)) bad_input("Float cannot represent " + v.text);
    return Json(d);
  }
  if (type.name == "Boolean") {
    if (v.kind != Value::Kind::boolean) return mismatch();
    return Json(v.boolean);
  }
  if (type.name == "ID") {
    if (v.kind != Value::Kind::string && v.kind != Value::Kind::integer) return mismatch();
    return Json(v.text);
  }
  // String and other custom scalars take strings.
  if (v.kind != Value::Kind::string) return mismatch();
  return Json(v.text);
}

Json coerce_input(const Schema& s, const Json& v, const TypeRef& type, const std::string& where) {
  if (type.kind == TypeRef::Kind::non_null) {
    if (v.is_null()) bad_input(fmt::format("{}: expected a value of type {}, found null", where, type.text()));
    return coerce_input(s, v, *type.of, where);
  }
  if (v.is_null()) return nullptr;
  if (type.kind == TypeRef::Kind::list) {
    Json out = Json::array();
    if (!v.is_array()) {
      out.push_back(coerce_input(s, v, *type.of, where));
      return out;
    }
    for (size_t i = 0; i < v.size(); ++i) out.push_back(coerce_input(s, v[i], *type.of, fmt::format("{}[{}]", where, i)));
    return out;
  }
  const TypeDefinition* t = s.type(type.name);
  auto mismatch = [&]() -> Json { bad_input(fmt::format("{}: {} cannot represent {}", where, type.name, v.dump())); };
  if (!t) return mismatch();
  if (t->kind == TypeDefinition::Kind::enumeration) {
    if (!v.is_string()) return mismatch();
    for (const auto& e : t->values)
      if (e.name == v.get<std::string>()) return v;
    bad_input(fmt::format("{}: value {} does not exist in enum {}", where, v.dump(), t->name));
  }
  if (t->kind == TypeDefinition::Kind::input_object) {
    if (!v.is_object()) return mismatch();
    for (const auto& [k, fv] : v.items()) {
      bool known = false;
      for (const auto& f : t->input_fields) known = known || f.name == k;
      if (!known) bad_input(fmt::format("{}: field '{}' is not defined by type {}", where, k, t->name));
    }
    Json out = Json::object();
    for (const auto& f : t->input_fields) {
      if (v.contains(f.name)) {
        out[f.name] = coerce_input(s, v[f.name], f.type, where + "." + f.name);
      } else if (f.default_value) {
        out[f.name] = coerce_literal(s, *f.default_value, f.type, Json::object());
      } else if (f.type.required()) {
        bad_input(fmt::format("{}: field '{}' of required type {} was not provided", where, f.name, f.type.text()));
      }
    }
    return out;
  }
  if (type.name == "Int") {
    if (v.is_number_integer()) {
      // JSON parsers keep non-negative numbers unsigned: compare in the type they have.
      const bool too_big = v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(std::numeric_limits<int32_t>::max())
                                                  : v.get<int64_t>() > std::numeric_limits<int32_t>::max();
      auto n = too_big ? 0 : v.get<int64_t>();
      if (too_big || n < std::numeric_limits<int32_t>::min())
        bad_input(fmt::format("{}: Int cannot represent non 32-bit signed integer value: {}", where, v.dump()));
      return Json(n);
    }
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (d == std::floor(d) && std::fabs(d) <= 2147483647.0) return Json(int64_t(d));
    }
    return mismatch();
  }
  if (type.name == "Long") {
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
      return mismatch();
    return Json(v.get<int64_t>());
  }
  if (type.name == "Float") {
    if (!v.is_number()) return mismatch();
    return Json(v.get<double>());
  }
  if (type.name == "Boolean") {
    if (!v.is_boolean()) return mismatch();
    return v;
  }
  if (type.name == "ID") {
    if (v.is_string()) return v;
    if (v.is_number_integer()) return Json(v.dump());
    return mismatch();
  }
  if (!v.is_string()) return mismatch();
  return v;
}

}  // namespace billctl::graphql
