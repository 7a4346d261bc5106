#include "observer/model_index.h"

#include <algorithm>

namespace hlo {

void ModelIndex::Reset(const Model& model) {
  nodes_by_service_.clear();
  // Sorted, so that the order does not depend on the hash map's: recovering
  // entries is order-independent, but a stable order keeps runs comparable.
  std::vector<const ServiceState*> entries;
  entries.reserve(model.services.size());
  for (const auto& [key, entry] : model.services) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const ServiceState* a, const ServiceState* b) {
    return a->node < b->node || (a->node == b->node && a->service < b->service);
  });
  for (const ServiceState* entry : entries) {
    nodes_by_service_[entry->service].push_back(entry->node);
  }
  IncidentsChanged();
  DeploymentsChanged();
}

const std::vector<std::string>& ModelIndex::NodesWithService(std::string_view service) const {
  static const std::vector<std::string> kNone;
  const auto it = nodes_by_service_.find(service);
  return it == nodes_by_service_.end() ? kNone : it->second;
}

void ModelIndex::ServiceAdded(const std::string& node, const std::string& service) {
  if (auto it = nodes_by_service_.find(std::string_view(service)); it != nodes_by_service_.end()) {
    it->second.push_back(node);
  } else {
    nodes_by_service_[service].push_back(node);
  }
}

}  // namespace hlo
