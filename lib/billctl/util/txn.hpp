// A unit of work a store runs atomically: everything written through the store between begin and
// commit() becomes visible together; destroying it without commit() undoes all of it. Domain
// interfaces hand these out so domain logic decides where a transaction starts and ends without
// knowing what keeps the data.
#pragma once

namespace billctl::util {

class Txn {
 public:
  virtual ~Txn() = default;
  virtual void commit() = 0;
};

}  // namespace billctl::util
