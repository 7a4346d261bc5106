// Writes the five world files — all or none — and the digest that ties them
// to the checkpoint. It remembers what it last wrote, so that `run` can leave
// a history file (incidents.json, deployments.json) alone when nothing in it
// can have changed: a heartbeat then costs a few MB of writing, not the whole
// history's 30 MB.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "observer/env.h"
#include "observer/model.h"
#include "observer/world_serializer.h"
#include "observer/model_index.h"
#include "observer/world_snapshot.h"

namespace hlo {

// A 64-bit fingerprint of the world files' names and bytes, fed file by
// file, each in as many pieces as it comes (the result does not depend on
// how a file is cut into pieces). Each file's bytes hash on their own and
// the result folds the (name, file hash) pairs, so a file left unchanged
// can contribute its remembered hash. It guards against accidental mismatch
// (a kill between the world files and the checkpoint, a hand edit), not
// against an adversary. Eight bytes per step: it runs at memory speed.
class WorldDigest {
 public:
  void BeginFile(std::string_view name);
  void Add(std::string_view bytes);
  void EndFile();
  // Folds in a file whose hash is known (last_file_hash() of an earlier run).
  void AddFile(std::string_view name, uint64_t file_hash);
  uint64_t last_file_hash() const { return last_file_hash_; }
  std::string Hex() const;  // 16 lowercase hex digits

 private:
  struct Hasher {
    uint64_t h = 1469598103934665603ULL;
    uint64_t length = 0;
    unsigned char pending[8] = {};
    size_t pending_size = 0;
    void Mix(uint64_t word);
    void Add(std::string_view bytes);
    uint64_t Seal();  // the pending bytes and the length; returns the hash
  };
  static uint64_t HashOf(std::string_view bytes);

  uint64_t total_ = 1469598103934665603ULL;
  uint64_t name_hash_ = 0;
  uint64_t last_file_hash_ = 0;
  Hasher file_;
};

// WorldDigest of whole files; missing files count as such.
std::string DigestWorldFiles(const std::vector<std::pair<std::string, std::string>>& files);

class WorldWriter {
 public:
  // `env` (Env::Default() when null) must outlive the writer.
  explicit WorldWriter(std::filesystem::path world_dir, Env* env = nullptr)
      : dir_(std::move(world_dir)), env_(env != nullptr ? env : Env::Default()) {}

  // Writes the world files of `world`, built from `model`, and sets digest()
  // to theirs. With `revisions` (the model's, from its ModelIndex),
  // incidents.json and deployments.json are left as they are when this
  // writer wrote them last, from the same revision of the model's history,
  // and they are still the files it wrote (same inode, size and modification
  // time); without, every file is written. false (with *error) when a write
  // fails: then no file was replaced.
  // `rendered`: files already rendered (non-null entries are written as
  // they are instead of being rendered again).
  bool Write(const WorldSnapshot& world, const Model& model, const HistoryRevisions* revisions,
             std::string* error, const WorldFileBytes* rendered = nullptr);

  const std::string& digest() const { return digest_; }

  // Nothing is known about the files on disk any more (after a replay).
  void Forget() { written_ = {}; }

 private:
  struct Written {
    bool known = false;
    uint64_t revision = 0;   // of the model's history it was written from
    uint64_t file_hash = 0;  // WorldDigest's hash of its bytes
    uint64_t stamp = 0;      // inode, size and mtime right after the rename
  };

  std::filesystem::path dir_;
  Env* env_;
  std::array<Written, kWorldFileNames.size()> written_{};
  std::string digest_;
};

}  // namespace hlo
