// Recompute every JSON test vector with the npm `canonicalize` package (an RFC 8785
// implementation independent of otel-audit) and Node's SHA-256; print one JSON line per case.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import canonicalizeModule from "canonicalize";

const canonicalize = canonicalizeModule.default ?? canonicalizeModule;
const vectors = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = vectors.json.map((vector) => {
  const canonical = canonicalize(JSON.parse(vector.input));
  const sha256 = createHash("sha256").update(canonical, "utf8").digest("hex");
  return { name: vector.name, canonical, sha256 };
});
process.stdout.write(JSON.stringify(results));
