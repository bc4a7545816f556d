// Shared by the fuzz targets: the fuzzer's bytes as a file that the readers can open (an
// in-memory file, /proc/self/fd/N), and the rule that billctl's own errors are fine while
// crashes, leaks, undefined behaviour and any other exception are not.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) {
    m_fd = ::memfd_create("billctl-fuzz", MFD_CLOEXEC);
    if (m_fd < 0) std::abort();
    size_t off = 0;
    while (off < size) {
      const ssize_t w = ::write(m_fd, data + off, size - off);
      if (w <= 0) std::abort();
      off += size_t(w);
    }
    m_path = "/proc/self/fd/" + std::to_string(m_fd);
  }
  ~MemFile() { ::close(m_fd); }
  const std::string& path() const { return m_path; }

 private:
  int m_fd = -1;
  std::string m_path;
};
