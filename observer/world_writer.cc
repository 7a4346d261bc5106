#include "observer/world_writer.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "observer/atomic_file.h"
#include "observer/json_writer.h"

namespace hlo {
void WorldDigest::Hasher::Mix(uint64_t word) {
  h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
}

void WorldDigest::Hasher::Add(std::string_view bytes) {
  length += bytes.size();
  if (pending_size > 0) {
    const size_t take = std::min(bytes.size(), sizeof pending - pending_size);
    std::memcpy(pending + pending_size, bytes.data(), take);
    pending_size += take;
    bytes.remove_prefix(take);
    if (pending_size < sizeof pending) return;
    uint64_t word;
    std::memcpy(&word, pending, sizeof word);
    Mix(word);
    pending_size = 0;
  }
  while (bytes.size() >= sizeof(uint64_t)) {
    uint64_t word;
    std::memcpy(&word, bytes.data(), sizeof word);
    Mix(word);
    bytes.remove_prefix(sizeof word);
  }
  std::memcpy(pending, bytes.data(), bytes.size());
  pending_size = bytes.size();
}

uint64_t WorldDigest::Hasher::Seal() {
  if (pending_size > 0) {
    uint64_t word = 0;
    std::memcpy(&word, pending, pending_size);
    Mix(word);
    pending_size = 0;
  }
  Mix(length);
  return h;
}

uint64_t WorldDigest::HashOf(std::string_view bytes) {
  Hasher hasher;
  hasher.Add(bytes);
  return hasher.Seal();
}

void WorldDigest::BeginFile(std::string_view name) {
  name_hash_ = HashOf(name);
  file_ = Hasher{};
}

void WorldDigest::Add(std::string_view bytes) { file_.Add(bytes); }

void WorldDigest::EndFile() {
  last_file_hash_ = file_.Seal();
  Hasher fold;
  fold.h = total_;
  fold.Mix(name_hash_);
  fold.Mix(last_file_hash_);
  total_ = fold.h;
}

void WorldDigest::AddFile(std::string_view name, uint64_t file_hash) {
  Hasher fold;
  fold.h = total_;
  fold.Mix(HashOf(name));
  fold.Mix(file_hash);
  total_ = fold.h;
  last_file_hash_ = file_hash;
}

std::string WorldDigest::Hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(total_));
  return buf;
}

std::string DigestWorldFiles(const std::vector<std::pair<std::string, std::string>>& files) {
  WorldDigest digest;
  for (const auto& [name, content] : files) {
    digest.BeginFile(name);
    digest.Add(content);
    digest.EndFile();
  }
  return digest.Hex();
}

bool WorldWriter::Write(const WorldSnapshot& world, const Model& model,
                        const HistoryRevisions* revisions, std::string* error,
                        const WorldFileBytes* rendered) {
  const bool skip_unchanged_history = revisions != nullptr;
  static_assert(kWorldFileNames[0] == "deployments.json" && kWorldFileNames[1] == "incidents.json");
  std::array<uint64_t, kWorldFileNames.size()> revision{};
  if (revisions != nullptr) {
    revision[0] = revisions->deployments;
    revision[1] = revisions->incidents;
  }
  std::array<bool, kWorldFileNames.size()> keep{};
  for (size_t i : {size_t{0}, size_t{1}}) {
    const Written& w = written_[i];
    keep[i] = skip_unchanged_history && w.known && revision[i] != 0 && w.revision == revision[i] &&
              w.stamp != 0 && env_->Stamp(dir_ / kWorldFileNames[i]) == w.stamp;
  }
  // Each file is streamed to its temporary file and hashed on the way, so
  // the 30 MB of a big world are never held in memory.
  std::array<uint64_t, kWorldFileNames.size()> file_hash{};
  std::vector<FileToWrite> writes;
  for (size_t i = 0; i < kWorldFileNames.size(); ++i) {
    if (keep[i]) continue;
    auto produce = [&, i](const ByteWriter& write) {
      WorldDigest digest;
      digest.BeginFile(kWorldFileNames[i]);
      JsonWriter writer(JsonWriter::Style::kPretty, [&](std::string_view bytes) {
        digest.Add(bytes);
        return write(bytes);
      });
      bool ok = false;
      if (rendered != nullptr && (*rendered)[i] != nullptr) {
        digest.Add(*(*rendered)[i]);
        ok = write(*(*rendered)[i]);
      } else {
        ok = WriteWorldFile(i, world, model, writer);
      }
      digest.EndFile();
      file_hash[i] = digest.last_file_hash();
      return ok;
    };
    writes.push_back({dir_ / kWorldFileNames[i], {}, std::move(produce)});
  }
  if (!env_->WriteFilesAtomic(writes, error)) {
    Forget();  // a rename failing half-way may have replaced some
    return false;
  }
  WorldDigest total;
  for (size_t i = 0; i < kWorldFileNames.size(); ++i) {
    if (keep[i]) {
      total.AddFile(kWorldFileNames[i], written_[i].file_hash);
      continue;
    }
    total.AddFile(kWorldFileNames[i], file_hash[i]);
    written_[i] = {true, revision[i], file_hash[i], env_->Stamp(dir_ / kWorldFileNames[i])};
  }
  digest_ = total.Hex();
  return true;
}

}  // namespace hlo
