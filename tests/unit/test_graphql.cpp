// The GraphQL parser, validation and executor, mostly with the June 2018 specification's examples.
#include <catch2/catch.hpp>

#include "billctl/graphql/execute.hpp"

using namespace billctl::graphql;

namespace {

constexpr const char* k_sdl = R"(
"A dog."
type Dog {
  name: String!
  nickname: String
  barkVolume: Int
  doesKnowCommand(dogCommand: DogCommand!): Boolean!
  isHousetrained(atOtherHomes: Boolean): Boolean!
  owner: Human
  friends(limit: Int = 10): [Dog!]!
  failing: String
  failingRequired: String!
}
enum DogCommand { SIT, DOWN, HEEL }
type Human {
  name: String!
  pets: [Dog]
}
input FindDogInput {
  name: String
  owner: String
  min: Int = 3
}
type Query {
  dog: Dog
  dogs(filter: FindDogInput): [Dog!]!
  echo(text: String, n: Int, f: Float, ids: [ID!], cmd: DogCommand): String
  required: Dog!
}
type Mutation {
  rename(name: String!): Dog
}
)";

Schema make_schema() {
  Schema s(k_sdl);
  Json rex = {{"name", "Rex"}, {"nickname", nullptr}, {"barkVolume", 7}};
  s.resolve("Query.dog", [rex](const ResolveInfo&) { return rex; });
  s.resolve("Query.required", [](const ResolveInfo&) { return Json(nullptr); });
  s.resolve("Query.dogs", [rex](const ResolveInfo& i) {
    Json out = Json::array({rex});
    if (i.args.contains("filter") && !i.args["filter"].is_null()) out[0]["name"] = i.args["filter"].dump();
    return out;
  });
  s.resolve("Query.echo", [](const ResolveInfo& i) { return Json(i.args.dump()); });
  s.resolve("Dog.doesKnowCommand", [](const ResolveInfo& i) { return Json(i.args["dogCommand"] == "SIT"); });
  s.resolve("Dog.isHousetrained", [](const ResolveInfo&) { return Json(true); });
  s.resolve("Dog.owner", [](const ResolveInfo&) { return Json{{"name", "Ann"}, {"pets", Json::array({Json{{"name", "Rex"}}})}}; });
  s.resolve("Dog.friends", [](const ResolveInfo& i) {
    Json out = Json::array();
    for (int64_t n = 0; n < std::min<int64_t>(2, i.args["limit"].get<int64_t>()); ++n) out.push_back(Json{{"name", "F" + std::to_string(n)}});
    return out;
  });
  s.resolve("Dog.failing", [](const ResolveInfo&) -> Json { throw FieldError("no such thing", "NOT_FOUND"); });
  s.resolve("Dog.failingRequired", [](const ResolveInfo&) -> Json { throw FieldError("gone", "NOT_FOUND"); });
  s.resolve("Mutation.rename", [](const ResolveInfo& i) { return Json{{"name", i.args["name"]}}; });
  return s;
}

Json run(const std::string& query, Json vars = Json::object(), const std::string& op = "", Limits limits = {}) {
  static const Schema s = make_schema();
  Request r;
  r.query = query;
  r.variables = std::move(vars);
  r.operation_name = op;
  return execute(s, r, limits, nullptr);
}

std::string first_error(const Json& response) {
  REQUIRE(response.contains("errors"));
  return response["errors"][0]["message"].get<std::string>();
}

std::string first_code(const Json& response) { return response["errors"][0]["extensions"]["code"].get<std::string>(); }

}  // namespace

TEST_CASE("graphql: parse errors name the line and column", "[graphql]") {
  Json r = run("{ dog { name }");
  CHECK(first_code(r) == "GRAPHQL_PARSE_FAILED");
  CHECK(r["errors"][0]["locations"][0] == Json{{"line", 1}, {"column", 15}});
  CHECK_FALSE(r.contains("data"));
  r = run("query {\n  dog {\n    name @\n  }\n}");
  CHECK(r["errors"][0]["locations"][0]["line"] == 4);
  CHECK(first_code(run("{ dog { name(x: 01) } }")) == "GRAPHQL_PARSE_FAILED");
  CHECK(first_code(run("{ dog { name(x: \"unterminated) } }")) == "GRAPHQL_PARSE_FAILED");
  CHECK(first_code(run("type Dog { name: String }")) == "GRAPHQL_PARSE_FAILED");
  // Nesting deep enough to exhaust a stack is refused while parsing.
  CHECK(first_error(run("{ echo(text: " + std::string(50000, '[') + " }")) == "Syntax Error: the document is nested too deeply");
  std::string deep = "{";
  for (int i = 0; i < 10000; ++i) deep += " a {";  // 40 KB: within the size limit
  CHECK(first_error(run(deep)) == "Syntax Error: the document is nested too deeply");
}

TEST_CASE("graphql: strings, block strings and numbers", "[graphql]") {
  Document d = parse("{ echo(text: \"a\\u00e9\\n\\\"q\\\" \\uD83D\\uDE00\", n: -12, f: 1.5e3) }");
  const auto& args = d.operations[0].selections[0].args;
  CHECK(args[0].second.text == "a\xC3\xA9\n\"q\" \xF0\x9F\x98\x80");
  CHECK(args[1].second.kind == Value::Kind::integer);
  CHECK(args[2].second.kind == Value::Kind::floating);
  Document b = parse("{ echo(text: \"\"\"\n    Hello,\n      World!\n\n    Yours\n  \"\"\") }");
  CHECK(b.operations[0].selections[0].args[0].second.text == "Hello,\n  World!\n\nYours");
}

TEST_CASE("graphql: fields, aliases, arguments and order of the response", "[graphql]") {
  Json r = run("{ dog { barkVolume name alias: name nickname } }");
  CHECK(r.dump() == R"({"data":{"dog":{"barkVolume":7,"name":"Rex","alias":"Rex","nickname":null}}})");
  r = run("{ dog { sit: doesKnowCommand(dogCommand: SIT) down: doesKnowCommand(dogCommand: DOWN) } }");
  CHECK(r["data"]["dog"] == Json{{"sit", true}, {"down", false}});
  r = run("{ dog { friends(limit: 1) { name } all: friends { name } } }");
  CHECK(r["data"]["dog"]["friends"].size() == 1);
  CHECK(r["data"]["dog"]["all"].size() == 2);
  CHECK(run("{ dog { __typename } }")["data"]["dog"]["__typename"] == "Dog");
}

TEST_CASE("graphql: fragments, inline fragments and directives", "[graphql]") {
  Json r = run(R"(
    query withFragments { dog { ...dogFields ... on Dog { nickname } ... @include(if: false) { barkVolume } } }
    fragment dogFields on Dog { name owner { name } }
  )");
  CHECK(r.dump() == R"({"data":{"dog":{"name":"Rex","owner":{"name":"Ann"},"nickname":null}}})");
  r = run("query q($skip: Boolean!) { dog { name @skip(if: $skip) barkVolume } }", {{"skip", true}});
  CHECK(r["data"]["dog"].dump() == R"({"barkVolume":7})");
}

TEST_CASE("graphql: variables are coerced to their declared types", "[graphql]") {
  Json r = run("query q($t: String, $n: Int = 5, $ids: [ID!]) { echo(text: $t, n: $n, ids: $ids) }",
               {{"t", "x"}, {"ids", 7}});
  CHECK(r["data"]["echo"] == R"({"text":"x","n":5,"ids":["7"]})");
  r = run("query q($n: Int) { echo(n: $n) }", {{"n", "five"}});
  CHECK(first_code(r) == "BAD_USER_INPUT");
  CHECK(first_error(r).find("$n") != std::string::npos);
  r = run("query q($n: Int) { echo(n: $n) }", {{"n", 3000000000LL}});
  CHECK(first_code(r) == "BAD_USER_INPUT");
  // Numbers parsed from a request body are unsigned when not negative: still Ints.
  r = run("query q($n: Int) { echo(n: $n) }", Json::parse(R"({"n": 7})"));
  CHECK(r["data"]["echo"] == R"({"n":7})");
  r = run("query q($n: Int) { echo(n: $n) }", Json::parse(R"({"n": 2147483648})"));
  CHECK(first_code(r) == "BAD_USER_INPUT");
  r = run("query q($c: DogCommand!) { dog { doesKnowCommand(dogCommand: $c) } }");
  CHECK(first_error(r) == "Variable \"$c\" of required type \"DogCommand!\" was not provided.");
  r = run("query q($c: DogCommand!) { dog { doesKnowCommand(dogCommand: $c) } }", {{"c", "SIT"}});
  CHECK(r["data"]["dog"]["doesKnowCommand"] == true);
  r = run("query q($f: FindDogInput) { dogs(filter: $f) { name } }", {{"f", {{"name", "a"}}}});
  CHECK(r["data"]["dogs"][0]["name"] == R"({"name":"a","min":3})");
  r = run("query q($f: FindDogInput) { dogs(filter: $f) { name } }", {{"f", {{"colour", "a"}}}});
  CHECK(first_code(r) == "BAD_USER_INPUT");
}

TEST_CASE("graphql: validation finds every problem before anything runs", "[graphql]") {
  Json r = run("{ dog { meowVolume } cat }");
  REQUIRE(r["errors"].size() == 2);
  CHECK(first_error(r) == "Cannot query field \"meowVolume\" on type \"Dog\".");
  CHECK_FALSE(r.contains("data"));
  CHECK(first_error(run("{ dog { name { first } } }")).find("must not have a selection") != std::string::npos);
  CHECK(first_error(run("{ dog { owner } }")).find("must have a selection of subfields") != std::string::npos);
  CHECK(first_error(run("{ dog { doesKnowCommand } }")).find("\"dogCommand\" of type \"DogCommand!\" is required") != std::string::npos);
  CHECK(first_error(run("{ dog { doesKnowCommand(dogCommand: JUMP) } }")).find("does not exist in enum DogCommand") != std::string::npos);
  CHECK(first_error(run("{ dog { doesKnowCommand(dogCommand: SIT, x: 1) } }")) == "Unknown argument \"x\" on field \"Dog.doesKnowCommand\".");
  CHECK(first_error(run("{ dog { name: nickname name } }")).find("conflict because") != std::string::npos);
  CHECK(first_error(run("{ dog { ...f } } fragment f on Dog { ...g } fragment g on Dog { ...f }")).find("within itself") != std::string::npos);
  CHECK(first_error(run("{ dog { name } } fragment unused on Dog { name }")) == "Fragment \"unused\" is never used.");
  CHECK(first_error(run("{ dog { ...missing } }")) == "Unknown fragment \"missing\".");
  CHECK(first_error(run("{ dog { ... on Human { name } } }")).find("can never be of type \"Human\"") != std::string::npos);
  CHECK(first_error(run("query q($x: Int) { dog { name } }")) == "Variable \"$x\" is never used in operation \"q\".");
  CHECK(first_error(run("{ echo(n: $x) }")) == "Variable \"$x\" is not defined.");
  CHECK(first_error(run("query q($x: String) { echo(n: $x) }")).find("used in position expecting type \"Int\"") != std::string::npos);
  CHECK(first_error(run("query q($d: Dog) { echo }")).find("cannot be non-input type") != std::string::npos);
  CHECK(first_error(run("{ dog { name @bogus } }")) == "Unknown directive \"@bogus\".");
  CHECK(first_error(run("query a { dog { name } } query a { dog { name } }")) == "There can be only one operation named \"a\".");
  CHECK(first_error(run("{ dog { name } } query b { dog { name } }")) == "This anonymous operation must be the only defined operation.");
  CHECK(first_error(run("subscription { dog { name } }")) == "Schema is not configured for subscriptions.");
  CHECK(first_error(run("{ echo(n: 2147483648) }")).find("non 32-bit") != std::string::npos);
  CHECK(first_error(run("{ echo(text: 5) }")).find("String cannot represent 5") != std::string::npos);
}

TEST_CASE("graphql: the operation is chosen by name", "[graphql]") {
  std::string doc = "query a { dog { name } } mutation b { rename(name: \"Max\") { name } }";
  CHECK(run(doc, Json::object(), "b")["data"]["rename"]["name"] == "Max");
  CHECK(run(doc, Json::object(), "a")["data"]["dog"]["name"] == "Rex");
  CHECK(first_error(run(doc)) == "Must provide operation name if query contains multiple operations.");
  CHECK(first_error(run(doc, Json::object(), "c")) == "Unknown operation named \"c\".");
}

TEST_CASE("graphql: field errors carry path and code; nulls propagate to the nearest nullable field", "[graphql]") {
  Json r = run("{ dog { name failing } }");
  CHECK(r["data"]["dog"] == Json{{"name", "Rex"}, {"failing", nullptr}});
  CHECK(r["errors"][0]["path"] == Json::array({"dog", "failing"}));
  CHECK(r["errors"][0]["locations"][0] == Json{{"line", 1}, {"column", 14}});
  CHECK(first_code(r) == "NOT_FOUND");
  r = run("{ dog { name failingRequired } }");
  CHECK(r["data"]["dog"].is_null());
  CHECK(r["errors"][0]["path"] == Json::array({"dog", "failingRequired"}));
  r = run("{ required { name } }");
  CHECK(r["data"].is_null());
  CHECK(first_error(r) == "Cannot return null for non-nullable field required.");
}

TEST_CASE("graphql: depth, complexity and size limits are checked before running", "[graphql]") {
  Limits l;
  l.max_depth = 3;
  Json r = run("{ dog { owner { pets { name } } } }", Json::object(), "", l);
  CHECK(first_code(r) == "QUERY_TOO_DEEP");
  l = Limits{};
  l.max_complexity = 50;
  r = run("{ dog { friends(limit: 100) { name } } }", Json::object(), "", l);
  CHECK(first_code(r) == "QUERY_TOO_COMPLEX");
  r = run("{ dog { friends(limit: 2) { name } } }", Json::object(), "", l);
  CHECK_FALSE(r.contains("errors"));
  // Introspection lists count once, but at most three of them on one path.
  l = Limits{};
  l.max_complexity = 1000;
  r = run("{ __schema { types { fields { args { type { name ofType { name } } } } } } }", Json::object(), "", l);
  CHECK_FALSE(r.contains("errors"));
  r = run("{ __schema { types { fields { type { fields { args { name } } } } } } }", Json::object(), "", l);
  CHECK(first_code(r) == "QUERY_TOO_COMPLEX");
  l = Limits{};
  l.max_bytes = 10;
  CHECK(first_code(run("{ dog { name } }", Json::object(), "", l)) == "QUERY_TOO_LARGE");
}

TEST_CASE("graphql: introspection describes the schema", "[graphql]") {
  Json r = run(R"({ __type(name: "Dog") { kind name description fields { name args { name defaultValue type { name kind ofType { name } } } type { kind ofType { kind name } } } } })");
  const Json& t = r["data"]["__type"];
  CHECK(t["kind"] == "OBJECT");
  CHECK(t["description"] == "A dog.");
  CHECK(t["fields"][0]["name"] == "name");
  CHECK(t["fields"][0]["type"] == Json{{"kind", "NON_NULL"}, {"ofType", {{"kind", "SCALAR"}, {"name", "String"}}}});
  CHECK(t["fields"][6]["args"][0]["defaultValue"] == "10");
  r = run("{ __schema { queryType { name } mutationType { name } subscriptionType { name } types { name } directives { name } } }");
  CHECK(r["data"]["__schema"]["queryType"]["name"] == "Query");
  CHECK(r["data"]["__schema"]["subscriptionType"].is_null());
  bool has_enum = false;
  for (const auto& ty : r["data"]["__schema"]["types"]) has_enum = has_enum || ty["name"] == "DogCommand";
  CHECK(has_enum);
  CHECK(run(R"({ __type(name: "DogCommand") { enumValues { name } } })")["data"]["__type"]["enumValues"].size() == 3);
  CHECK(run(R"({ __type(name: "Nope") { name } })")["data"]["__type"].is_null());
}

TEST_CASE("graphql: the SDL printed parses back to the same schema", "[graphql]") {
  Schema s(k_sdl);
  Schema again(s.sdl());
  CHECK(again.sdl() == s.sdl());
  CHECK(s.sdl().find("friends(limit: Int = 10): [Dog!]!") != std::string::npos);
  CHECK_THROWS_AS(Schema("type Query { a: Nope }"), RequestError);
  CHECK_THROWS_AS(Schema("input I { a: String } type Query { a: I }"), RequestError);
  CHECK(make_schema().unresolved() == std::vector<std::string>{});
  CHECK(Schema("type Query { a: String }").unresolved() == std::vector<std::string>{"Query.a"});
}

TEST_CASE("graphql: a Long scalar takes 64-bit integers", "[graphql]") {
  Schema s("scalar Long type Query { twice(n: Long!): Long }");
  s.resolve("Query.twice", [](const ResolveInfo& i) { return Json(i.args["n"].get<int64_t>() * 2); });
  Request r;
  r.query = "{ twice(n: 4000000000) }";
  CHECK(execute(s, r, Limits{}, nullptr)["data"]["twice"] == 8000000000LL);
  r.query = "query q($n: Long!) { twice(n: $n) }";
  r.variables = Json::parse(R"({"n": 5000000000})");
  CHECK(execute(s, r, Limits{}, nullptr)["data"]["twice"] == 10000000000LL);
  r.variables = Json::parse(R"({"n": "5"})");
  CHECK(execute(s, r, Limits{}, nullptr)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT");
}

TEST_CASE("graphql: request bodies", "[graphql]") {
  Request r = request_from_json(R"({"query":"{ a }","operationName":null,"variables":{"x":1}})");
  CHECK(r.query == "{ a }");
  CHECK(r.variables["x"] == 1);
  CHECK_THROWS_AS(request_from_json("[]"), RequestError);
  CHECK_THROWS_AS(request_from_json(R"({"query": 5})"), RequestError);
  CHECK_THROWS_AS(request_from_json(R"({"query": "{a}", "variables": [1]})"), RequestError);
}
