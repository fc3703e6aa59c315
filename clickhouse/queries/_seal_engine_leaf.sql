-- Fragment: the leaf hash of a prediction row computed by the engine, as otel_audit/seal/leaf.py
-- specifies it (version 3: lower-case hex SHA-256 of 0x00 and the leaf object's RFC 8785 JSON),
-- or '' where engine_leafable (_seal_engine_leafable.sql, in the same SELECT) is 0 and the leaf
-- is hashed in Python. toJSONString may escape '/' (output_format_json_escape_forward_slashes);
-- every '\/' in its output is put back to '/', which is exact for the text engine_leafable admits
-- (no '\/' in it): every backslash toJSONString writes then starts an escape, and '\/' can only
-- be an escaped '/'. Keys are written in RFC 8785
-- order (all ASCII, so byte order); attribute keys are sorted by bytes, which is that order for
-- the ASCII keys engine_leafable admits.
    if(
        engine_leafable,
        lower(hex(SHA256(concat(
            char(0),
            '{"attributes":{',
            arrayStringConcat(
                arrayMap(
                    item -> concat(
                        replaceAll(toJSONString(item.1), '\\/', '/'), ':',
                        if(item.1 IN ({{semconv.CONTENT_ATTRIBUTES}}),
                           concat('"sha256:', lower(hex(SHA256(item.2))), '"'),
                           replaceAll(toJSONString(item.2), '\\/', '/'))),
                    arraySort(arrayZip(mapKeys(Attributes), mapValues(Attributes)))),
                ','),
            '},"batch_size":', toString(BatchSize),
            ',"error_message":', replaceAll(toJSONString(ErrorMessage), '\\/', '/'),
            ',"error_type":', replaceAll(toJSONString(ErrorType), '\\/', '/'),
            ',"input_hash":', replaceAll(toJSONString(InputHash), '\\/', '/'),
            ',"input_sha256":"', lower(hex(SHA256(Input))),
            '","latency_ms":', if(LatencyMs = floor(LatencyMs), toString(toInt64(LatencyMs)), toString(LatencyMs)),
            ',"model_name":', replaceAll(toJSONString(ModelName), '\\/', '/'),
            ',"model_version":', replaceAll(toJSONString(ModelVersion), '\\/', '/'),
            ',"operation":', replaceAll(toJSONString(Operation), '\\/', '/'),
            ',"outcome":', replaceAll(toJSONString(Outcome), '\\/', '/'),
            ',"output_label_sha256":"', lower(hex(SHA256(OutputLabel))),
            '","output_sha256":"', lower(hex(SHA256(Output))),
            '","pipeline_version":', replaceAll(toJSONString(PipelineVersion), '\\/', '/'),
            ',"record_id":', replaceAll(toJSONString(RecordId), '\\/', '/'),
            ',"request_id":', replaceAll(toJSONString(RequestId), '\\/', '/'),
            ',"service_name":', replaceAll(toJSONString(ServiceName), '\\/', '/'),
            ',"span_id":', replaceAll(toJSONString(SpanId), '\\/', '/'),
            ',"timestamp":"', toString(Timestamp),
            '","trace_id":', replaceAll(toJSONString(TraceId), '\\/', '/'),
            ',"user_id":', replaceAll(toJSONString(UserId), '\\/', '/'),
            ',"v":3}')))),
        ''
    ) AS engine_leaf_hash
