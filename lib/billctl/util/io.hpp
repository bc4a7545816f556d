// File input and output: a buffered byte source over a file descriptor (files and stdin),
// and AtomicFile, which writes to a temporary file and renames it into place on commit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace billctl::util {

// Reads a file or stdin ("-") in large blocks. Not copyable.
class FileSource {
 public:
  // Opens `path`; "-" is standard input. Throws DataError naming the path on failure.
  explicit FileSource(const std::string& path);
  ~FileSource();
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  // Reads up to n bytes into out; returns 0 at end of file. Throws DataError on I/O errors.
  size_t read(char* out, size_t n);
  const std::string& path() const { return m_path; }
  // Total size when known (regular files), else 0.
  uint64_t size() const { return m_size; }
  // Moves to an absolute offset (regular files only). Throws DataError on failure.
  void seek(uint64_t offset);

 private:
  std::string m_path;
  int m_fd = -1;
  bool m_owned = false;
  uint64_t m_size = 0;
};

// Writes `path` atomically: content goes to a temp file beside it, renamed over it on commit().
// Destroyed without commit(), the temp file is removed and `path` is untouched.
// A symlink is followed (the file it points at is replaced, the link stays); a target that is
// not a regular file (a device such as /dev/null, a FIFO) is written directly, never replaced;
// a directory is refused. Every write error (ENOSPC included) is a DataError naming the path.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path, unsigned mode = 0644);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(std::string_view data);
  void commit();

 private:
  std::string m_path;  // as given, for messages
  std::string m_tmp;   // empty when writing directly
  std::string m_final;  // where the temp file is renamed to
  int m_fd = -1;
};

// Writes all of `s` to the file descriptor, retrying after signals; false on an error (errno set).
bool write_all(int fd, std::string_view s);
// Writes the whole content atomically.
void write_file_atomic(const std::string& path, std::string_view content, unsigned mode = 0644);
// Reads a whole (small) file. Throws DataError naming the path.
std::string read_file(const std::string& path);
// Creates a directory and its parents (mode 0700 for new ones).
void make_dirs(const std::string& path);
bool is_directory(const std::string& path);

}  // namespace billctl::util
