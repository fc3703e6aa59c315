// Send audited predictions to `otel-audit serve` with the OpenTelemetry JS SDK, the way a
// Node service would: one log record per prediction, event name `ai.prediction`, the
// otel-audit attribute conventions (docs/conventions.md), exported over OTLP/HTTP (JSON).
// Usage: node send_audit.mjs ENDPOINT_URL MODEL COUNT
import { createHash } from "node:crypto";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";

const [url, model, countText] = process.argv.slice(2);
const count = Number.parseInt(countText, 10);

// Flat objects of strings and integers: sorted-key JSON.stringify is the canonical encoding.
function inputHash(input) {
  const sorted = Object.fromEntries(Object.keys(input).sort().map((key) => [key, input[key]]));
  return createHash("sha256").update(JSON.stringify(sorted), "utf8").digest("hex");
}

const provider = new LoggerProvider({
  resource: resourceFromAttributes({ "service.name": "js-scoring-service" }),
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url }), maxExportBatchSize: 50 })],
});
const logger = provider.getLogger("js-audit-client", "1.0.0");

for (let index = 0; index < count; index += 1) {
  const input = { customer: `c${index}`, amount: 100 + index };
  const output = { label: index % 3 === 0 ? "decline" : "approve" };
  logger.emit({
    eventName: "ai.prediction",
    severityNumber: SeverityNumber.INFO,
    severityText: "INFO",
    body: { input, output },
    attributes: {
      "gen_ai.request.model": model,
      "gen_ai.operation.name": "predict",
      "ml.model.version": index < count / 2 ? "js-1.0" : "js-1.1",
      "audit.request.id": `js-${model}-${index}`,
      "audit.input.hash": inputHash(input),
      "audit.outcome": "ok",
      "audit.output.label": output.label,
      "audit.latency_ms": 1.5 + index,
      "user.id": `user-${index % 4}`,
    },
  });
}
await provider.shutdown();
process.stdout.write(JSON.stringify({ sent: count }));
