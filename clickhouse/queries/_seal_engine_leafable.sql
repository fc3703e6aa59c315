-- Fragment: 1 when the engine's text of a prediction row's leaf (_seal_engine_leaf.sql) is
-- exactly RFC 8785, else 0 and the leaf is hashed in Python. It is not for
--   * text that is not valid UTF-8 (Python reads it decoded; the texts are joined with NUL, so
--     that no character is made of two texts' halves);
--   * a character toJSONString writes otherwise: U+000B, U+000E, U+000F, U+001A..U+001F (hex in
--     upper case), U+2028, U+2029 (escaped);
--   * a backslash before a slash ('\/'): _seal_engine_leaf.sql turns every '\/' toJSONString
--     writes back into '/', which is exact, whether the server escapes '/' or not
--     (output_format_json_escape_forward_slashes), only when the text holds no '\/' itself;
--   * an attribute key that is not ASCII (sorted by bytes there, by UTF-16 code units in RFC 8785),
--     or a key the map holds twice (a Map can; Python reads it as a dict, one value per key);
--   * an erasure tombstone in the content (its hash is read from it);
--   * a latency ES6 prints otherwise: not finite, an integer beyond 2^53 - 1, or a fraction
--     outside [1e-4, 1e16) (inside, toString and ES6 both print the shortest round-trip decimal).
    (
        isValidUTF8(concatWithSeparator('\0', RecordId, ModelName, ModelVersion, PipelineVersion, Operation,
                                        InputHash, UserId, RequestId, Outcome, ErrorType, ErrorMessage, ServiceName,
                                        TraceId, SpanId, OutputLabel, Input, Output,
                                        arrayStringConcat(mapKeys(Attributes), '\0'),
                                        arrayStringConcat(mapValues(Attributes), '\0')))
        AND NOT match(concatWithSeparator('\0', RecordId, ModelName, ModelVersion, PipelineVersion, Operation,
                                          InputHash, UserId, RequestId, Outcome, ErrorType, ErrorMessage, ServiceName,
                                          TraceId, SpanId, arrayStringConcat(mapKeys(Attributes), '\0'),
                                          arrayStringConcat(mapValues(Attributes), '\0')),
                      '[\\x0b\\x0e\\x0f\\x1a-\\x1f\\x{2028}\\x{2029}]|\\\\/')
        AND arrayAll(key -> match(key, '^[\\x00-\\x7f]*$'), mapKeys(Attributes))
        AND length(arrayDistinct(mapKeys(Attributes))) = length(Attributes)
        AND NOT startsWith(Input, '{"$erased":') AND NOT startsWith(Output, '{"$erased":')
        AND NOT startsWith(OutputLabel, '{"$erased":')
        AND NOT arrayExists(item -> item.1 IN ({{semconv.CONTENT_ATTRIBUTES}}) AND startsWith(item.2, '{"$erased":'),
                            arrayZip(mapKeys(Attributes), mapValues(Attributes)))
        AND isFinite(LatencyMs)
        AND if(LatencyMs = floor(LatencyMs), abs(LatencyMs) <= 9007199254740991,
               abs(LatencyMs) >= 0.0001 AND abs(LatencyMs) < 1e16)
    ) AS engine_leafable
