#include "billctl/util/io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "billctl/util/error.hpp"

namespace billctl::util {

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t w = ::write(fd, s.data(), s.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    s.remove_prefix(size_t(w));
  }
  return true;
}

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

FileSource::FileSource(const std::string& path) : m_path(path) {
  if (path == "-") {
    m_fd = 0;
    return;
  }
  m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) throw DataError("cannot open '" + path + "': " + errno_text());
  m_owned = true;
  struct stat st{};
  if (::fstat(m_fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(m_fd);
      throw DataError("'" + path + "' is a directory");
    }
    if (S_ISREG(st.st_mode)) m_size = uint64_t(st.st_size);
  }
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

FileSource::~FileSource() {
  if (m_owned) ::close(m_fd);
}

size_t FileSource::read(char* out, size_t n) {
  for (;;) {
    const ssize_t r = ::read(m_fd, out, n);
    if (r >= 0) return size_t(r);
    if (errno == EINTR) continue;
    throw DataError("cannot read '" + m_path + "': " + errno_text());
  }
}

void FileSource::seek(uint64_t offset) {
  if (::lseek(m_fd, off_t(offset), SEEK_SET) < 0) throw DataError("cannot seek in '" + m_path + "': " + errno_text());
}

AtomicFile::AtomicFile(std::string path, unsigned mode) : m_path(std::move(path)), m_final(m_path) {
  struct stat st{};
  if (::lstat(m_path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char* real = ::realpath(m_path.c_str(), nullptr);
    if (!real) throw DataError("cannot write '" + m_path + "': it is a symbolic link to a missing file");
    m_final = real;
    std::free(real);
  }
  if (::stat(m_final.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw DataError("cannot write '" + m_path + "': it is a directory");
    if (!S_ISREG(st.st_mode)) {  // a device or a FIFO: write into it, never rename over it
      m_fd = ::open(m_final.c_str(), O_WRONLY | O_CLOEXEC);
      if (m_fd < 0) throw DataError("cannot write '" + m_path + "': " + errno_text());
      return;
    }
  }
  std::random_device rd;
  m_tmp = m_final + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
  m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (m_fd < 0) throw DataError("cannot write '" + m_path + "': " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
    if (!m_tmp.empty()) ::unlink(m_tmp.c_str());
  }
}

void AtomicFile::write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = ::write(m_fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      throw DataError("cannot write '" + m_path + "': " + errno_text());
    }
    data.remove_prefix(size_t(w));
  }
}

void AtomicFile::commit() {
  if (m_tmp.empty()) {  // written directly
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0) throw DataError("cannot write '" + m_path + "': " + errno_text());
    return;
  }
  if (::fsync(m_fd) != 0 || ::close(m_fd) != 0) {
    const std::string why = errno_text();
    m_fd = -1;
    ::unlink(m_tmp.c_str());
    throw DataError("cannot write '" + m_path + "': " + why);
  }
  m_fd = -1;
  if (::rename(m_tmp.c_str(), m_final.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(m_tmp.c_str());
    throw DataError("cannot write '" + m_path + "': " + why);
  }
}

void write_file_atomic(const std::string& path, std::string_view content, unsigned mode) {
  AtomicFile f(path, mode);
  f.write(content);
  f.commit();
}

std::string read_file(const std::string& path) {
  FileSource src(path);
  std::string out;
  char buf[65536];
  for (;;) {
    const size_t n = src.read(buf, sizeof buf);
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

void make_dirs(const std::string& path) {
  if (path.empty()) return;
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
      throw DataError("cannot create directory '" + cur + "': " + errno_text());
  }
}

bool is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace billctl::util
