// Validation (§5) and execution (§6) of a GraphQL request against a Schema, with limits checked
// before any resolver runs.
#pragma once

#include <string>
#include <vector>

#include "billctl/graphql/schema.hpp"

namespace billctl::graphql {

struct Request {
  std::string query;
  std::string operation_name;      // empty: the only operation
  Json variables = Json::object();
};

struct Limits {
  size_t max_bytes = 64 * 1024;   // of the query text
  int max_depth = 15;             // nesting of selections (the standard introspection query is 13)
  int64_t max_complexity = 25000;  // fields, each list's selections counted `list_size` times
  int64_t list_size = 10;          // assumed items of a list field without a `limit` argument
};

// The cost of a request as the limits count it.
struct Cost {
  int depth = 0;
  int64_t complexity = 0;
};

// Every problem validation found; what() is the first.
class ValidationFailed : public RequestError {
 public:
  explicit ValidationFailed(std::vector<RequestError> all)
      : RequestError(all.front().what(), all.front().locations, all.front().code), all(std::move(all)) {}
  std::vector<RequestError> all;
};

// A request checked and ready to run: parsed, validated, its operation chosen, variables coerced,
// limits checked. Throws RequestError (with the code for extensions.code) otherwise.
class Prepared {
 public:
  Prepared(const Schema& s, const Request& r, const Limits& limits);
  ~Prepared();
  Operation::Kind kind() const;
  const Cost& cost() const { return m_cost; }
  // Runs the operation: {"data": ...} and, when fields failed, "errors": [...] with message,
  // locations, path and extensions.code.
  Json run(void* context) const;
  // The arguments of the operation's (first) root field, coerced: what a subscription's stream
  // needs to know before its first event (the interval).
  Json root_arguments() const;

 private:
  const Schema& m_schema;
  Document m_doc;
  const Operation* m_op = nullptr;
  Json m_variables;
  Cost m_cost;
};

// Prepares and runs; a request that cannot run gives {"errors": [...]} without "data" (§7.1.2).
Json execute(const Schema& s, const Request& r, const Limits& limits, void* context);

// An error entry of a response.
Json error_entry(const std::string& message, const std::vector<Location>& locations, const std::string& code);

// Parses an HTTP request body {"query", "operationName", "variables"}; throws RequestError
// (code BAD_REQUEST) when it is not one.
Request request_from_json(const std::string& body);

}  // namespace billctl::graphql
