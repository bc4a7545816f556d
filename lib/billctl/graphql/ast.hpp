// GraphQL documents (June 2018 specification): the syntax tree of executable documents
// (operations and fragments, §2) and of the type system definition language (§3), and the parser
// that builds them. Execution and schemas live in schema.hpp and execute.hpp.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billctl::graphql {

struct Location {
  int line = 0;
  int column = 0;
};

// A syntax error or a request the executor refuses before running it; `code` becomes the error's
// extensions.code.
class RequestError : public std::runtime_error {
 public:
  RequestError(const std::string& message, std::vector<Location> locations, std::string code = "GRAPHQL_VALIDATION_FAILED")
      : std::runtime_error(message), locations(std::move(locations)), code(std::move(code)) {}
  std::vector<Location> locations;
  std::string code;
};

// A type as written: Name, [T] or T!.
struct TypeRef {
  enum class Kind { named, list, non_null } kind = Kind::named;
  std::string name;                    // named
  std::shared_ptr<const TypeRef> of;   // list, non_null
  static TypeRef named_type(std::string n) { return TypeRef{Kind::named, std::move(n), nullptr}; }
  static TypeRef list_of(TypeRef t) { return TypeRef{Kind::list, {}, std::make_shared<const TypeRef>(std::move(t))}; }
  static TypeRef non_null_of(TypeRef t) { return TypeRef{Kind::non_null, {}, std::make_shared<const TypeRef>(std::move(t))}; }
  // The named type under all wrappers.
  const std::string& base() const { return kind == Kind::named ? name : of->base(); }
  bool required() const { return kind == Kind::non_null; }
  // "[Budget!]!"
  std::string text() const;
};
// Parses "[Budget!]!"; throws RequestError.
TypeRef parse_type(std::string_view text);

struct Value;
// A named value (an argument, an object field). Not a std::pair: a pair of an incomplete Value is
// refused by clang's library checks inside Value itself.
struct Argument;
using Arguments = std::vector<Argument>;

struct Value {
  enum class Kind { null, integer, floating, string, boolean, enumeration, list, object, variable };
  Kind kind = Kind::null;
  std::string text;  // integer/floating literal, string content, enum name, variable name
  bool boolean = false;
  std::vector<Value> list;
  Arguments fields;  // object
  Location loc;
  // The value as GraphQL source text ("[1, \"a\"]"), as introspection prints default values.
  std::string source() const;
};

struct Argument {
  std::string first;  // the name
  Value second;
};

struct Directive {
  std::string name;
  Arguments args;
  Location loc;
};

struct Selection;
using SelectionSet = std::vector<Selection>;

struct Selection {
  enum class Kind { field, spread, inline_fragment };
  Kind kind = Kind::field;
  std::string alias;            // field: empty when none
  std::string name;             // field name, or the spread fragment's name
  Arguments args;
  std::vector<Directive> directives;
  std::string type_condition;   // inline fragment: empty when none
  SelectionSet selections;
  Location loc;
  const std::string& response_name() const { return alias.empty() ? name : alias; }
};

struct VariableDefinition {
  std::string name;
  TypeRef type;
  std::optional<Value> default_value;
  Location loc;
};

struct Operation {
  enum class Kind { query, mutation, subscription };
  Kind kind = Kind::query;
  std::string name;  // empty: anonymous
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  SelectionSet selections;
  Location loc;
};

struct Fragment {
  std::string name;
  std::string type_condition;
  std::vector<Directive> directives;
  SelectionSet selections;
  Location loc;
};

// Type system definitions (SDL).
struct InputValueDefinition {
  std::string description;
  std::string name;
  TypeRef type;
  std::optional<Value> default_value;
  std::vector<Directive> directives;
};

struct FieldDefinition {
  std::string description;
  std::string name;
  std::vector<InputValueDefinition> args;
  TypeRef type;
  std::vector<Directive> directives;
};

struct EnumValueDefinition {
  std::string description;
  std::string name;
  std::vector<Directive> directives;
};

struct TypeDefinition {
  enum class Kind { scalar, object, interface, union_type, enumeration, input_object };
  Kind kind = Kind::object;
  std::string description;
  std::string name;
  std::vector<std::string> interfaces;
  std::vector<FieldDefinition> fields;
  std::vector<InputValueDefinition> input_fields;
  std::vector<EnumValueDefinition> values;
  std::vector<std::string> members;  // union
  std::vector<Directive> directives;
  Location loc;
};

struct SchemaDefinition {
  std::string query, mutation, subscription;
};

struct Document {
  std::vector<Operation> operations;
  std::vector<Fragment> fragments;
  std::vector<TypeDefinition> types;
  std::optional<SchemaDefinition> schema;
};

// Parses a document; throws RequestError (code GRAPHQL_PARSE_FAILED) with the location of the first
// problem. `executable` refuses type system definitions (requests); otherwise both are accepted.
Document parse(std::string_view source, bool executable = true);

}  // namespace billctl::graphql
