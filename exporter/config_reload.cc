#include "exporter/config_reload.h"

#include <utility>

#include "exporter/tls_context.h"

namespace hlo {
namespace {

std::string Plural(size_t n, const std::string& one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

std::string DescribeWeb(const std::filesystem::path& file, const WebConfig& web) {
  std::string text = "web config " + file.string() + " (";
  text += web.tls ? "TLS, certificate " + DescribeCertificate(web.tls->cert_pem) : "plain HTTP";
  text += ", " + Plural(web.basic_auth_users.size(), "basic-auth user") + ")";
  return text;
}

}  // namespace

ReloadOutcome ReloadConfig(const ReloadTargets& targets) {
  ReloadOutcome outcome;
  std::vector<std::string> problems;
  std::vector<std::string> reloaded;

  std::optional<InventoryKeeper::Candidate> inventory = targets.inventory->Load();
  if (inventory) {
    const std::filesystem::path& checkout = *targets.inventory->checkout();
    for (const InventoryWarning& w : inventory->inventory.warnings) {
      problems.push_back(FormatInventoryWarning(checkout, w));
    }
    reloaded.push_back("inventory " + checkout.string() + " (" +
                       Plural(inventory->inventory.nodes.size(), "node") + ")");
  }

  std::optional<WebConfig> web;
  if (targets.web_config_file) {
    std::string error;
    web = LoadWebConfig(*targets.web_config_file, &error);
    if (!web) {
      problems.push_back(error);
    } else if (targets.refuse_web) {
      if (auto refusal = targets.refuse_web(*web)) {
        problems.push_back("web config " + targets.web_config_file->string() + ": " + *refusal);
      }
    }
  }

  // The web part goes first because it is the one that can still refuse
  // (a certificate that does not match its key); the inventory cannot.
  if (problems.empty() && web) {
    std::string error;
    if (!targets.apply_web(*web, &error)) {
      problems.push_back("web config " + targets.web_config_file->string() + ": " + error);
    } else {
      for (const std::string& note : web->notes) outcome.log.push_back(note);
      reloaded.push_back(DescribeWeb(*targets.web_config_file, *web));
    }
  }
  if (!problems.empty()) {
    outcome.log.push_back("reload failed; the configuration in use stays (" +
                          Plural(problems.size(), "problem") + "):");
    for (std::string& p : problems) outcome.log.push_back("  " + std::move(p));
    return outcome;
  }
  if (inventory) targets.inventory->Adopt(std::move(*inventory));
  std::string done = "reloaded ";
  if (reloaded.empty()) done += "nothing (no --inventory, no --web.config.file)";
  for (size_t i = 0; i < reloaded.size(); ++i) done += (i > 0 ? " and " : "") + reloaded[i];
  outcome.log.push_back(std::move(done));
  outcome.ok = true;
  return outcome;
}

}  // namespace hlo
