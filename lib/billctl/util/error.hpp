// Typed errors. Their kind decides the exit code (SPEC §12); the one catch site is
// cmd::run_main. Low-level parsers return Expected<T> instead of throwing so that hot
// loops can reject a row without unwinding.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace billctl {

enum class ExitCode : int {
  ok = 0,
  failure = 1,
  usage = 2,
  check_failed = 3,
  auth = 4,
  partial = 5,
  interrupted = 130,
};

// Base of every error billctl reports; what() is the message without the "billctl: error: " prefix.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message)
      : std::runtime_error(std::move(message)), m_code(code) {}
  ExitCode code() const { return m_code; }

 private:
  ExitCode m_code;
};

// Bad flags or arguments (exit 2).
class UsageError : public Error {
 public:
  explicit UsageError(std::string m) : Error(ExitCode::usage, std::move(m)) {}
};

// Bad data, I/O failure, arithmetic overflow (exit 1).
class DataError : public Error {
 public:
  explicit DataError(std::string m) : Error(ExitCode::failure, std::move(m)) {}
};

// A check (budget, verify, ...) failed (exit 3).
class CheckFailed : public Error {
 public:
  explicit CheckFailed(std::string m) : Error(ExitCode::check_failed, std::move(m)) {}
};

// Work finished but some parts were rejected (exit 5). Output has already been written.
class PartialFailure : public Error {
 public:
  explicit PartialFailure(std::string m) : Error(ExitCode::partial, std::move(m)) {}
};

// The result of a parser: a value or a message saying what is wrong with the input.
template <typename T>
class Expected {
 public:
  Expected(T value) : m_v(std::move(value)) {}  // NOLINT: implicit by design
  static Expected fail(std::string message) {
    Expected e;
    e.m_v = Failure{std::move(message)};
    return e;
  }
  explicit operator bool() const { return m_v.index() == 0; }
  const T& operator*() const { return std::get<0>(m_v); }
  T& operator*() { return std::get<0>(m_v); }
  const T* operator->() const { return &std::get<0>(m_v); }
  const std::string& error() const { return std::get<1>(m_v).message; }
  // The value, or an exception of kind E (DataError unless the caller says otherwise) carrying
  // the message, prefixed with context.
  template <typename E = DataError>
  const T& value_or_throw(const std::string& context = {}) const {
    if (!*this) throw E(context.empty() ? error() : context + ": " + error());
    return **this;
  }
  // A value typed on the command line: the value, or a UsageError (exit 2)
  // "invalid FLAG 'VALUE': reason" naming the flag, the value and what is accepted.
  const T& flag_value(const std::string& flag, const std::string& value) const {
    if (!*this) throw UsageError("invalid " + flag + " '" + value + "': " + error());
    return **this;
  }

 private:
  struct Failure {
    std::string message;
  };
  Expected() = default;
  std::variant<T, Failure> m_v;
};

}  // namespace billctl
