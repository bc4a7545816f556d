// JUnit XML, the report format CI systems (GitLab, Jenkins, GitHub test reporters) read: one
// testsuite of test cases, each passed, failed or in error.
#pragma once

#include <string>
#include <vector>

namespace billctl::render {

struct TestCase {
  std::string classname;
  std::string name;
  std::string failure;  // message when it failed
  std::string error;    // message when it could not be evaluated
};

struct TestSuite {
  std::string suites_name;  // <testsuites name=...>
  std::string name;         // <testsuite name=...>
  std::string timestamp;    // RFC 3339
  std::string type = "budget";  // the type attribute of failures and errors
  std::vector<TestCase> cases;
};

std::string to_junit(const TestSuite& s);
// XML attribute text: & < > " ' escaped.
std::string xml_escape(const std::string& s);

}  // namespace billctl::render
