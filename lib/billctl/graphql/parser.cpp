// The lexer (§2.1) and a recursive-descent parser for executable documents and SDL.
#include "billctl/graphql/ast.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace billctl::graphql {

namespace {

enum class Tok { end, punct, name, integer, floating, string, block_string };

struct Token {
  Tok kind = Tok::end;
  std::string text;  // punctuator, name, number text, or string value (escapes resolved)
  Location loc;
};

[[noreturn]] void fail(const Location& at, const std::string& why) {
  throw RequestError("Syntax Error: " + why, {at}, "GRAPHQL_PARSE_FAILED");
}

bool name_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// §2.9.4 BlockStringValue: common indentation and blank first/last lines removed.
std::string block_string_value(const std::string& raw) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i <= raw.size(); ++i) {
    if (i == raw.size() || raw[i] == '\n' || raw[i] == '\r') {
      lines.push_back(raw.substr(start, i - start));
      if (i < raw.size() && raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  size_t common = std::string::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& l = lines[i];
    size_t indent = 0;
    while (indent < l.size() && (l[indent] == ' ' || l[indent] == '\t')) ++indent;
    if (indent < l.size() && indent < common) common = indent;
  }
  if (common != std::string::npos)
    for (size_t i = 1; i < lines.size(); ++i) lines[i].erase(0, std::min(common, lines[i].size()));
  auto blank = [](const std::string& l) { return l.find_first_not_of(" \t") == std::string::npos; };
  while (!lines.empty() && blank(lines.front())) lines.erase(lines.begin());
  while (!lines.empty() && blank(lines.back())) lines.pop_back();
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : m_src(src) {
    if (m_src.substr(0, 3) == "\xEF\xBB\xBF") m_pos = 3;
  }

  Token next() {
    skip_ignored();
    Token t;
    t.loc = here();
    if (m_pos >= m_src.size()) return t;
    char c = m_src[m_pos];
    if (c == '.') {
      if (m_src.substr(m_pos, 3) != "...") fail(t.loc, "Unexpected '.'; did you mean '...'?");
      m_pos += 3;
      return punct(t, "...");
    }
    if (std::string_view("!$&()[]{}:=@|").find(c) != std::string_view::npos) {
      ++m_pos;
      return punct(t, std::string(1, c));
    }
    if (name_start(c)) {
      size_t b = m_pos;
      while (m_pos < m_src.size() && name_char(m_src[m_pos])) ++m_pos;
      t.kind = Tok::name;
      t.text = std::string(m_src.substr(b, m_pos - b));
      return t;
    }
    if (c == '-' || digit(c)) return number(t);
    if (c == '"') {
      if (m_src.substr(m_pos, 3) == "\"\"\"") return block_string(t);
      return string(t);
    }
    fail(t.loc, fmt::format("Unexpected character '{}'", printable(c)));
  }

 private:
  static std::string printable(char c) {
    if (static_cast<unsigned char>(c) < 0x20) return fmt::format("\\u{:04X}", static_cast<unsigned>(c));
    return std::string(1, c);
  }
  Location here() const { return Location{m_line, int(m_pos - m_line_start) + 1}; }
  Token& punct(Token& t, std::string p) {
    t.kind = Tok::punct;
    t.text = std::move(p);
    return t;
  }
  void newline_at(size_t after) {
    ++m_line;
    m_line_start = after;
  }
  void skip_ignored() {
    while (m_pos < m_src.size()) {
      char c = m_src[m_pos];
      if (c == ' ' || c == '\t' || c == ',') {
        ++m_pos;
      } else if (c == '\n') {
        ++m_pos;
        newline_at(m_pos);
      } else if (c == '\r') {
        ++m_pos;
        if (m_pos < m_src.size() && m_src[m_pos] == '\n') ++m_pos;
        newline_at(m_pos);
      } else if (c == '#') {
        while (m_pos < m_src.size() && m_src[m_pos] != '\n' && m_src[m_pos] != '\r') ++m_pos;
      } else if (m_src.substr(m_pos, 3) == "\xEF\xBB\xBF") {
        m_pos += 3;
      } else {
        break;
      }
    }
  }
  Token& number(Token& t) {
    size_t b = m_pos;
    if (m_src[m_pos] == '-') ++m_pos;
    if (m_pos >= m_src.size() || !digit(m_src[m_pos])) fail(here(), "Invalid number, expected digit");
    if (m_src[m_pos] == '0') {
      ++m_pos;
      if (m_pos < m_src.size() && digit(m_src[m_pos])) fail(here(), "Invalid number, unexpected digit after 0");
    } else {
      while (m_pos < m_src.size() && digit(m_src[m_pos])) ++m_pos;
    }
    bool is_float = false;
    if (m_pos < m_src.size() && m_src[m_pos] == '.') {
      is_float = true;
      ++m_pos;
      if (m_pos >= m_src.size() || !digit(m_src[m_pos])) fail(here(), "Invalid number, expected digit after '.'");
      while (m_pos < m_src.size() && digit(m_src[m_pos])) ++m_pos;
    }
    if (m_pos < m_src.size() && (m_src[m_pos] == 'e' || m_src[m_pos] == 'E')) {
      is_float = true;
      ++m_pos;
      if (m_pos < m_src.size() && (m_src[m_pos] == '+' || m_src[m_pos] == '-')) ++m_pos;
      if (m_pos >= m_src.size() || !digit(m_src[m_pos])) fail(here(), "Invalid number, expected digit in exponent");
      while (m_pos < m_src.size() && digit(m_src[m_pos])) ++m_pos;
    }
    if (m_pos < m_src.size() && (name_start(m_src[m_pos]) || m_src[m_pos] == '.'))
      fail(here(), fmt::format("Invalid number, unexpected '{}'", printable(m_src[m_pos])));
    t.kind = is_float ? Tok::floating : Tok::integer;
    t.text = std::string(m_src.substr(b, m_pos - b));
    return t;
  }
  int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  uint32_t unicode_escape() {
    Location at = here();
    if (m_pos + 4 > m_src.size()) fail(at, "Invalid Unicode escape sequence");
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(m_src[m_pos + i]);
      if (h < 0) fail(at, "Invalid Unicode escape sequence");
      cp = cp * 16 + uint32_t(h);
    }
    m_pos += 4;
    return cp;
  }
  Token& string(Token& t) {
    ++m_pos;
    std::string out;
    while (true) {
      if (m_pos >= m_src.size() || m_src[m_pos] == '\n' || m_src[m_pos] == '\r') fail(t.loc, "Unterminated string");
      char c = m_src[m_pos];
      if (c == '"') {
        ++m_pos;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        fail(here(), fmt::format("Invalid character within String: {}", printable(c)));
      if (c != '\\') {
        out += c;
        ++m_pos;
        continue;
      }
      ++m_pos;
      if (m_pos >= m_src.size()) fail(t.loc, "Unterminated string");
      char e = m_src[m_pos++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = unicode_escape();
          if (cp >= 0xD800 && cp <= 0xDBFF && m_src.substr(m_pos, 2) == "\\u") {
            size_t save = m_pos;
            m_pos += 2;
            uint32_t lo = unicode_escape();
            if (lo >= 0xDC00 && lo <= 0xDFFF)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else
              m_pos = save;
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(here(), fmt::format("Invalid character escape sequence: \\{}", printable(e)));
      }
    }
    t.kind = Tok::string;
    t.text = std::move(out);
    return t;
  }
  Token& block_string(Token& t) {
    m_pos += 3;
    std::string raw;
    while (true) {
      if (m_pos >= m_src.size()) fail(t.loc, "Unterminated string");
      if (m_src.substr(m_pos, 3) == "\"\"\"") {
        m_pos += 3;
        break;
      }
      if (m_src.substr(m_pos, 4) == "\\\"\"\"") {
        raw += "\"\"\"";
        m_pos += 4;
        continue;
      }
      char c = m_src[m_pos++];
      raw += c;
      if (c == '\n' || (c == '\r' && !(m_pos < m_src.size() && m_src[m_pos] == '\n'))) newline_at(m_pos);
    }
    t.kind = Tok::block_string;
    t.text = block_string_value(raw);
    return t;
  }

  std::string_view m_src;
  size_t m_pos = 0;
  int m_line = 1;
  size_t m_line_start = 0;
};

// Nesting a document may have (selection sets, lists, objects, list types): deeper is refused
// before the recursion could exhaust a worker's stack.
constexpr int k_max_nesting = 200;

class Parser {
 public:
  Parser(std::string_view src, bool executable) : m_lex(src), m_executable(executable) { advance(); }

  Document document() {
    Document doc;
    if (m_tok.kind == Tok::end) fail(m_tok.loc, "Unexpected <EOF>");
    while (m_tok.kind != Tok::end) definition(doc);
    return doc;
  }

  TypeRef type_only() {
    TypeRef t = type();
    if (m_tok.kind != Tok::end) unexpected();
    return t;
  }

 private:
  void advance() { m_tok = m_lex.next(); }
  bool peek(std::string_view punct) const { return m_tok.kind == Tok::punct && m_tok.text == punct; }
  bool peek_name(std::string_view word) const { return m_tok.kind == Tok::name && m_tok.text == word; }
  [[noreturn]] void unexpected() {
    if (m_tok.kind == Tok::end) fail(m_tok.loc, "Unexpected <EOF>");
    std::string what = m_tok.kind == Tok::string || m_tok.kind == Tok::block_string ? "String"
                       : m_tok.kind == Tok::punct                                   ? "\"" + m_tok.text + "\""
                                                                                      : m_tok.text;
    fail(m_tok.loc, "Unexpected " + what);
  }
  void expect(std::string_view punct) {
    if (!peek(punct)) {
      if (m_tok.kind == Tok::end) fail(m_tok.loc, fmt::format("Expected \"{}\", found <EOF>", punct));
      fail(m_tok.loc, fmt::format("Expected \"{}\", found {}", punct,
                                  m_tok.kind == Tok::punct ? "\"" + m_tok.text + "\"" : describe()));
    }
    advance();
  }
  std::string describe() const {
    switch (m_tok.kind) {
      case Tok::name: return "Name \"" + m_tok.text + "\"";
      case Tok::integer: case Tok::floating: return "Number \"" + m_tok.text + "\"";
      case Tok::string: case Tok::block_string: return "String";
      default: return m_tok.text;
    }
  }
  bool skip(std::string_view punct) {
    if (!peek(punct)) return false;
    advance();
    return true;
  }
  std::string name() {
    if (m_tok.kind != Tok::name) {
      if (m_tok.kind == Tok::end) fail(m_tok.loc, "Expected Name, found <EOF>");
      fail(m_tok.loc, "Expected Name, found " + (m_tok.kind == Tok::punct ? "\"" + m_tok.text + "\"" : describe()));
    }
    std::string n = m_tok.text;
    advance();
    return n;
  }
  void keyword(std::string_view word) {
    if (!peek_name(word)) fail(m_tok.loc, fmt::format("Expected \"{}\", found {}", word, describe()));
    advance();
  }

  void definition(Document& doc) {
    std::string description;
    Location at = m_tok.loc;
    if (m_tok.kind == Tok::string || m_tok.kind == Tok::block_string) {
      if (m_executable) unexpected();
      description = m_tok.text;
      advance();
    }
    if (peek("{")) {
      if (!description.empty()) unexpected();
      Operation op;
      op.loc = at;
      op.selections = selection_set();
      doc.operations.push_back(std::move(op));
      return;
    }
    if (m_tok.kind != Tok::name) unexpected();
    const std::string& w = m_tok.text;
    if (w == "query" || w == "mutation" || w == "subscription") {
      if (!description.empty()) unexpected();
      doc.operations.push_back(operation());
    } else if (w == "fragment") {
      if (!description.empty()) unexpected();
      doc.fragments.push_back(fragment());
    } else if (!m_executable && (w == "schema" || w == "scalar" || w == "type" || w == "interface" || w == "union" ||
                                 w == "enum" || w == "input" || w == "directive")) {
      type_system(doc, std::move(description));
    } else {
      unexpected();
    }
  }

  Operation operation() {
    Operation op;
    op.loc = m_tok.loc;
    op.kind = m_tok.text == "query" ? Operation::Kind::query
              : m_tok.text == "mutation" ? Operation::Kind::mutation
                                         : Operation::Kind::subscription;
    advance();
    if (m_tok.kind == Tok::name) op.name = name();
    if (peek("(")) {
      advance();
      do {
        VariableDefinition v;
        v.loc = m_tok.loc;
        expect("$");
        v.name = name();
        expect(":");
        v.type = type();
        if (skip("=")) v.default_value = value(true);
        op.variables.push_back(std::move(v));
      } while (!skip(")"));
    }
    op.directives = directives(false);
    op.selections = selection_set();
    return op;
  }

  Fragment fragment() {
    Fragment f;
    f.loc = m_tok.loc;
    advance();
    if (peek_name("on")) fail(m_tok.loc, "Unexpected Name \"on\"");
    f.name = name();
    keyword("on");
    f.type_condition = name();
    f.directives = directives(false);
    f.selections = selection_set();
    return f;
  }

  // Counts one level of nesting for the lifetime of a parsing function.
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.m_depth > k_max_nesting) fail(p.m_tok.loc, "the document is nested too deeply");
    }
    ~Nest() { --p.m_depth; }
  };

  SelectionSet selection_set() {
    Nest nest(*this);
    expect("{");
    SelectionSet set;
    do set.push_back(selection());
    while (!skip("}"));
    return set;
  }

  Selection selection() {
    Selection s;
    s.loc = m_tok.loc;
    if (skip("...")) {
      if (m_tok.kind == Tok::name && m_tok.text != "on") {
        s.kind = Selection::Kind::spread;
        s.name = name();
        s.directives = directives(false);
        return s;
      }
      s.kind = Selection::Kind::inline_fragment;
      if (peek_name("on")) {
        advance();
        s.type_condition = name();
      }
      s.directives = directives(false);
      s.selections = selection_set();
      return s;
    }
    s.name = name();
    if (skip(":")) {
      s.alias = std::move(s.name);
      s.name = name();
    }
    s.args = arguments(false);
    s.directives = directives(false);
    if (peek("{")) s.selections = selection_set();
    return s;
  }

  Arguments arguments(bool is_const) {
    Arguments args;
    if (!skip("(")) return args;
    do {
      std::string n = name();
      expect(":");
      Value v = value(is_const);
      args.push_back(Argument{std::move(n), std::move(v)});
    } while (!skip(")"));
    return args;
  }

  std::vector<Directive> directives(bool is_const) {
    std::vector<Directive> out;
    while (peek("@")) {
      Directive d;
      d.loc = m_tok.loc;
      advance();
      d.name = name();
      d.args = arguments(is_const);
      out.push_back(std::move(d));
    }
    return out;
  }

  Value value(bool is_const) {
    Nest nest(*this);
    Value v;
    v.loc = m_tok.loc;
    switch (m_tok.kind) {
      case Tok::punct:
        if (m_tok.text == "$" && !is_const) {
          advance();
          v.kind = Value::Kind::variable;
          v.text = name();
          return v;
        }
        if (m_tok.text == "[") {
          advance();
          v.kind = Value::Kind::list;
          while (!skip("]")) v.list.push_back(value(is_const));
          return v;
        }
        if (m_tok.text == "{") {
          advance();
          v.kind = Value::Kind::object;
          while (!skip("}")) {
            std::string n = name();
            expect(":");
            Value f = value(is_const);
            v.fields.push_back(Argument{std::move(n), std::move(f)});
          }
          return v;
        }
        unexpected();
      case Tok::integer: v.kind = Value::Kind::integer; break;
      case Tok::floating: v.kind = Value::Kind::floating; break;
      case Tok::string:
      case Tok::block_string: v.kind = Value::Kind::string; break;
      case Tok::name:
        if (m_tok.text == "true" || m_tok.text == "false") {
          v.kind = Value::Kind::boolean;
          v.boolean = m_tok.text == "true";
        } else if (m_tok.text == "null") {
          v.kind = Value::Kind::null;
        } else {
          v.kind = Value::Kind::enumeration;
        }
        break;
      case Tok::end: unexpected();
    }
    v.text = m_tok.text;
    advance();
    return v;
  }

  TypeRef type() {
    Nest nest(*this);
    TypeRef t;
    if (skip("[")) {
      t = TypeRef::list_of(type());
      expect("]");
    } else {
      t = TypeRef::named_type(name());
    }
    if (skip("!")) t = TypeRef::non_null_of(std::move(t));
    return t;
  }

  std::string optional_description() {
    if (m_tok.kind != Tok::string && m_tok.kind != Tok::block_string) return {};
    std::string d = m_tok.text;
    advance();
    return d;
  }

  std::vector<InputValueDefinition> input_values(std::string_view open, std::string_view close) {
    std::vector<InputValueDefinition> out;
    if (!skip(open)) return out;
    while (!skip(close)) {
      InputValueDefinition v;
      v.description = optional_description();
      v.name = name();
      expect(":");
      v.type = type();
      if (skip("=")) v.default_value = value(true);
      v.directives = directives(true);
      out.push_back(std::move(v));
    }
    return out;
  }

  void type_system(Document& doc, std::string description) {
    Location at = m_tok.loc;
    std::string w = name();
    if (w == "schema") {
      SchemaDefinition s;
      directives(true);
      expect("{");
      while (!skip("}")) {
        std::string op = name();
        expect(":");
        std::string t = name();
        if (op == "query") s.query = t;
        else if (op == "mutation") s.mutation = t;
        else if (op == "subscription") s.subscription = t;
        else fail(at, "Unknown operation type \"" + op + "\"");
      }
      doc.schema = s;
      return;
    }
    if (w == "directive") {
      // Custom directives are parsed and ignored: the executor knows @skip, @include, @deprecated.
      expect("@");
      name();
      input_values("(", ")");
      keyword("on");
      skip("|");
      do name();
      while (skip("|"));
      return;
    }
    TypeDefinition t;
    t.loc = at;
    t.description = std::move(description);
    t.name = name();
    if (w == "scalar") {
      t.kind = TypeDefinition::Kind::scalar;
      t.directives = directives(true);
    } else if (w == "type" || w == "interface") {
      t.kind = w == "type" ? TypeDefinition::Kind::object : TypeDefinition::Kind::interface;
      if (peek_name("implements")) {
        advance();
        skip("&");
        do t.interfaces.push_back(name());
        while (skip("&") || (m_tok.kind == Tok::name && !peek(("{"))));
      }
      t.directives = directives(true);
      expect("{");
      while (!skip("}")) {
        FieldDefinition f;
        f.description = optional_description();
        f.name = name();
        f.args = input_values("(", ")");
        expect(":");
        f.type = type();
        f.directives = directives(true);
        t.fields.push_back(std::move(f));
      }
    } else if (w == "union") {
      t.kind = TypeDefinition::Kind::union_type;
      t.directives = directives(true);
      expect("=");
      skip("|");
      do t.members.push_back(name());
      while (skip("|"));
    } else if (w == "enum") {
      t.kind = TypeDefinition::Kind::enumeration;
      t.directives = directives(true);
      expect("{");
      while (!skip("}")) {
        EnumValueDefinition v;
        v.description = optional_description();
        v.name = name();
        if (v.name == "true" || v.name == "false" || v.name == "null") fail(at, "Invalid enum value " + v.name);
        v.directives = directives(true);
        t.values.push_back(std::move(v));
      }
    } else {  // input
      t.kind = TypeDefinition::Kind::input_object;
      t.directives = directives(true);
      t.input_fields = input_values("{", "}");
    }
    doc.types.push_back(std::move(t));
  }

  Lexer m_lex;
  Token m_tok;
  bool m_executable;
  int m_depth = 0;
};

void quote(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04X}", unsigned(c));
        else out += char(c);
    }
  }
  out += '"';
}

void write_source(std::string& out, const Value& v) {
  switch (v.kind) {
    case Value::Kind::null: out += "null"; break;
    case Value::Kind::boolean: out += v.boolean ? "true" : "false"; break;
    case Value::Kind::string: quote(out, v.text); break;
    case Value::Kind::variable: out += "$" + v.text; break;
    case Value::Kind::list:
      out += '[';
      for (size_t i = 0; i < v.list.size(); ++i) {
        if (i) out += ", ";
        write_source(out, v.list[i]);
      }
      out += ']';
      break;
    case Value::Kind::object:
      out += '{';
      for (size_t i = 0; i < v.fields.size(); ++i) {
        if (i) out += ", ";
        out += v.fields[i].first + ": ";
        write_source(out, v.fields[i].second);
      }
      out += '}';
      break;
    default: out += v.text;
  }
}

}  // namespace

std::string TypeRef::text() const {
  switch (kind) {
    case Kind::named: return name;
    case Kind::list: return "[" + of->text() + "]";
    case Kind::non_null: return of->text() + "!";
  }
  return name;
}

TypeRef parse_type(std::string_view text) { return Parser(text, true).type_only(); }

std::string Value::source() const {
  std::string out;
  write_source(out, *this);
  return out;
}

Document parse(std::string_view source, bool executable) { return Parser(source, executable).document(); }

}  // namespace billctl::graphql
