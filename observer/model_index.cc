#include "observer/model_index.h"

#include <algorithm>

namespace hlo {

void ModelIndex::Reset(Model& model) {
  group_by_service_.clear();
  groups_.clear();
  inventory_added_.clear();
  bulk_ = false;
  // Sorted, so that the order does not depend on the hash map's: recovering
  // entries is order-independent, but a stable order keeps runs comparable.
  std::vector<ServiceState*> entries;
  entries.reserve(model.services.size());
  for (auto& [key, entry] : model.services) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const ServiceState* a, const ServiceState* b) {
    return a->node < b->node || (a->node == b->node && a->service < b->service);
  });
  for (ServiceState* entry : entries) ServiceAdded(*entry);
  IncidentsChanged();
  DeploymentsChanged();
}

ModelIndex::ServiceGroup* ModelIndex::Group(std::string_view service) {
  const auto it = group_by_service_.find(service);
  return it == group_by_service_.end() ? nullptr : &groups_[it->second - 1];
}

void ModelIndex::ServiceAdded(ServiceState& entry) {
  auto it = group_by_service_.find(std::string_view(entry.service));
  if (it == group_by_service_.end()) {
    groups_.emplace_back();
    it = group_by_service_.emplace(entry.service, static_cast<uint32_t>(groups_.size())).first;
  }
  ServiceGroup& group = groups_[it->second - 1];
  entry.index_group = it->second;
  // A new entry did not exist when the deferred recoveries happened.
  entry.index_received = static_cast<uint32_t>(group.deferred.size());
  group.entries.push_back(&entry);
}

void ModelIndex::EndBulk() {
  for (ServiceGroup& group : groups_) {
    if (!group.deferred.empty()) {
      for (ServiceState* entry : group.entries) entry->index_received = 0;
      group.deferred.clear();
    }
  }
  // What was known of a hand-built inventory holds only within the bulk.
  std::erase_if(inventory_added_, [](const auto& kv) { return kv.second == 0; });
  bulk_ = false;
}

}  // namespace hlo
