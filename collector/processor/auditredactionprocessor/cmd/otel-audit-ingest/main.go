// Command otel-audit-ingest does otel-audit serve's per-record work outside its Python process:
// it maps spooled OTLP logs requests to the otel_logs columns (package logrows), as Arrow
// buffers, while serve's writer inserts the previous batch.
//
//	otel-audit-ingest -identity '{"version": "...", "uid_key": "...", "events": ["...", ...]}'
//
// serve starts it and speaks a framed protocol on its stdin and stdout (otel_audit.service.native
// is the other end). All integers are little-endian. A request is
//
//	uint32 op (1 = map logs), uint32 n, then n times: uint32 length, payload
//
// and its answer is, in request order,
//
//	uint32 0, uint32 rows, uint32 buffer count, then per buffer: uint64 length, bytes
//	or uint32 1, uint32 length, message   (the batch is mapped in Python instead)
//
// Requests are read while earlier ones are mapped, so a writer may send the next batch before it
// reads this one's answer. The process exits at the end of its input.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/logrows"
)

const opMapLogs = 1

type request struct {
	op       uint32
	payloads [][]byte
}

func main() {
	identityJSON := flag.String("identity", "", "the content-id parameters, as JSON")
	flag.Parse()
	var spec struct {
		Version string   `json:"version"`
		UIDKey  string   `json:"uid_key"`
		Events  []string `json:"events"`
	}
	if err := json.Unmarshal([]byte(*identityJSON), &spec); err != nil || spec.Version == "" || spec.UIDKey == "" {
		fmt.Fprintln(os.Stderr, "otel-audit-ingest: -identity must be a JSON object with version, uid_key and events")
		os.Exit(2)
	}
	identity := &logrows.Identity{Version: spec.Version, UIDKey: spec.UIDKey, Events: map[string]bool{}}
	for _, event := range spec.Events {
		identity.Events[event] = true
	}
	requests := make(chan request, 4)
	readErr := make(chan error, 1)
	go func() {
		readErr <- read(bufio.NewReaderSize(os.Stdin, 1<<20), requests)
		close(requests)
	}()
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	var columns logrows.Columns
	for req := range requests {
		if err := answer(out, &columns, identity, req); err != nil {
			fmt.Fprintln(os.Stderr, "otel-audit-ingest: writing an answer:", err)
			os.Exit(1)
		}
	}
	if err := <-readErr; err != nil {
		fmt.Fprintln(os.Stderr, "otel-audit-ingest: reading a request:", err)
		os.Exit(1)
	}
}

// read parses framed requests until the end of the input (nil) or a broken frame (an error).
func read(in *bufio.Reader, requests chan<- request) error {
	var header [8]byte
	for {
		if _, err := io.ReadFull(in, header[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		op, n := binary.LittleEndian.Uint32(header[:4]), binary.LittleEndian.Uint32(header[4:])
		payloads := make([][]byte, n)
		for i := range payloads {
			if _, err := io.ReadFull(in, header[:4]); err != nil {
				return err
			}
			payloads[i] = make([]byte, binary.LittleEndian.Uint32(header[:4]))
			if _, err := io.ReadFull(in, payloads[i]); err != nil {
				return err
			}
		}
		requests <- request{op: op, payloads: payloads}
	}
}

func answer(out *bufio.Writer, columns *logrows.Columns, identity *logrows.Identity, req request) error {
	var err error
	if req.op != opMapLogs {
		err = fmt.Errorf("unknown operation %d", req.op)
	} else {
		err = columns.Map(identity, req.payloads)
	}
	if err != nil {
		message := []byte(err.Error())
		if writeErr := writeUint32s(out, 1, uint32(len(message))); writeErr != nil { //nolint:gosec // short message
			return writeErr
		}
		if _, writeErr := out.Write(message); writeErr != nil {
			return writeErr
		}
		return out.Flush()
	}
	if err := writeUint32s(out, 0, uint32(columns.Rows), logrows.BufferCount); err != nil { //nolint:gosec // rows of one batch
		return err
	}
	if _, err := columns.WriteTo(out); err != nil {
		return err
	}
	return out.Flush()
}

func writeUint32s(out io.Writer, values ...uint32) error {
	buffer := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(buffer[4*i:], v)
	}
	_, err := out.Write(buffer)
	return err
}
