// A Node service that knows nothing of otel-audit beyond the event name and model attribute:
// no request ids, no log.record.uid. Three predictions logged inside one request span, then
// COUNT identical predictions outside any span, exported over OTLP/HTTP (JSON).
// Usage: node send_plain.mjs ENDPOINT_URL MODEL COUNT
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";

const [url, model, countText] = process.argv.slice(2);
const count = Number.parseInt(countText, 10);
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ "service.name": "js-plain-service" }),
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url }) })],
});
const logger = provider.getLogger("js-plain");

function predict(input, ctx) {
  logger.emit({
    eventName: "ai.prediction",
    severityNumber: SeverityNumber.INFO,
    body: { input, output: { label: "approve" } },
    attributes: { "gen_ai.request.model": model, "ml.model.version": "1" },
    context: ctx,
  });
}

const span = trace.wrapSpanContext({
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  traceFlags: TraceFlags.SAMPLED,
});
const inSpan = trace.setSpan(context.active(), span);
for (let index = 0; index < 3; index += 1) {
  predict({ item: index }, inSpan);
}
for (let index = 0; index < count; index += 1) {
  predict({ item: "same" }, context.active());
}
await provider.shutdown();
process.stdout.write(JSON.stringify({ sent: 3 + count }));
