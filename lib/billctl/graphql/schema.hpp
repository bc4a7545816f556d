// A GraphQL schema: the types of an SDL document (§3) with a resolver per field that computes
// something, plus the built-in scalars and the introspection types (§4). Fields without a
// resolver read the key of their name from the parent object.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/graphql/ast.hpp"

namespace billctl::graphql {

// Results keep the order of the selections (§7.2.2: "ordered map").
using Json = nlohmann::ordered_json;

class Schema;

// Thrown by resolvers: the field becomes null and the response lists the error with its path and
// extensions.code ("FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", ...).
class FieldError : public std::runtime_error {
 public:
  FieldError(const std::string& message, std::string code) : std::runtime_error(message), code(std::move(code)) {}
  std::string code;
};

struct ResolveInfo {
  const Json& parent;      // the object the field is read from (null for a root field)
  const Json& args;        // arguments coerced to their types, defaults applied (an object)
  void* context;           // whatever the caller of execute() passed: the request's identity
  const Selection& field;  // the (first) selection of the field, for looking ahead
  const Schema& schema;
};
using Resolver = std::function<Json(const ResolveInfo&)>;

class Schema {
 public:
  // Builds the schema from SDL. Throws RequestError naming the first problem (an unknown type, a
  // field of an input type that is not an input type, ...).
  explicit Schema(std::string_view sdl);

  // Sets the resolver of "Type.field"; throws std::logic_error when there is no such field.
  void resolve(const std::string& type_field, Resolver r);

  const TypeDefinition* type(std::string_view name) const;
  const FieldDefinition* field(const TypeDefinition& t, std::string_view name) const;
  const Resolver* resolver(const std::string& type, const std::string& field) const;
  const std::string& query_type() const { return m_query; }
  const std::string& mutation_type() const { return m_mutation; }
  const std::string& subscription_type() const { return m_subscription; }
  // Every type, the built-in scalars and introspection types included, sorted by name.
  const std::map<std::string, TypeDefinition, std::less<>>& types() const { return m_types; }
  // The schema as SDL (the types the SDL defined, in the order written; no built-ins).
  std::string sdl() const;
  // Root fields (query, mutation, subscription) that have no resolver: a schema served with such
  // fields would answer null for them.
  std::vector<std::string> unresolved() const;

  // Keeps `owner` alive as long as the schema (what the resolvers point into).
  void keep(std::shared_ptr<void> owner) { m_owned.push_back(std::move(owner)); }

  static bool is_input(const TypeDefinition& t);
  static bool is_leaf(const TypeDefinition& t);

 private:
  void add(const Document& doc, bool builtin);
  void check() const;
  void add_introspection();
  std::map<std::string, TypeDefinition, std::less<>> m_types;
  std::vector<std::string> m_order;  // user types as written
  std::map<std::string, Resolver, std::less<>> m_resolvers;
  std::string m_query = "Query", m_mutation, m_subscription;
  std::vector<std::shared_ptr<void>> m_owned;
};

// A literal `v` as a value of `type` (§5.6.1 / §6.4.1): variables are looked up in `variables`.
// Throws RequestError (BAD_USER_INPUT) saying why it does not fit.
Json coerce_literal(const Schema& s, const Value& v, const TypeRef& type, const Json& variables);
// A variable's JSON value as `type`; `where` names it in errors ("$period").
Json coerce_input(const Schema& s, const Json& v, const TypeRef& type, const std::string& where);

}  // namespace billctl::graphql
