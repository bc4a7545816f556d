#include "billctl/render/junit.hpp"

#include <algorithm>

namespace billctl::render {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string to_junit(const TestSuite& s) {
  const auto failures = std::count_if(s.cases.begin(), s.cases.end(), [](const TestCase& c) { return c.error.empty() && !c.failure.empty(); });
  const auto errors = std::count_if(s.cases.begin(), s.cases.end(), [](const TestCase& c) { return !c.error.empty(); });
  const std::string tests = std::to_string(s.cases.size());
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"" + xml_escape(s.suites_name) + "\" tests=\"" + tests + "\" failures=\"" + std::to_string(failures) + "\">\n";
  out += "  <testsuite name=\"" + xml_escape(s.name) + "\" tests=\"" + tests + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"" + std::to_string(errors) + "\" skipped=\"0\" timestamp=\"" + xml_escape(s.timestamp) + "\">\n";
  for (const auto& c : s.cases) {
    out += "    <testcase classname=\"" + xml_escape(c.classname) + "\" name=\"" + xml_escape(c.name) + "\" time=\"0\">";
    if (!c.error.empty())
      out += "\n      <error type=\"" + xml_escape(s.type) + "\" message=\"" + xml_escape(c.error) + "\"/>\n    ";
    else if (!c.failure.empty())
      out += "\n      <failure type=\"" + xml_escape(s.type) + "\" message=\"" + xml_escape(c.failure) + "\"/>\n    ";
    out += "</testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace billctl::render
