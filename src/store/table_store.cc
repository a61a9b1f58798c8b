// The embedded table store on RocksDB: TableStore::Open. The implementation is TableStoreImpl
// (store/table_store_impl.h), in the files that header lists. See docs/key_format.md for the
// on-disk layout.

#include "store/table_store_impl.h"

namespace tablelake {

Result<std::unique_ptr<TableStore>> TableStore::Open(const std::string& dir,
                                                     const StoreOptions& options) {
  auto store = std::make_unique<store::TableStoreImpl>(options);
  TL_RETURN_IF_ERROR(store->Open(dir));
  return std::unique_ptr<TableStore>(std::move(store));
}

}  // namespace tablelake
