// Command re2check compiles redaction patterns with Go's regexp (RE2) and reports their raw
// matches on sample texts, so the Python tests can prove the rule file means the same in both
// engines. Input on stdin: {"patterns": {"name": "regex"}, "texts": ["..."]}. Output on stdout:
// {"errors": {"name": "message"}, "matches": {"name": [[textIndex, "matched text"], ...]}}.
// Standard library only: run it with `go run main.go`.
package main

import (
	"encoding/json"
	"os"
	"regexp"
)

type request struct {
	Patterns map[string]string `json:"patterns"`
	Texts    []string          `json:"texts"`
}

type response struct {
	Errors  map[string]string           `json:"errors"`
	Matches map[string][][2]interface{} `json:"matches"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		os.Stderr.WriteString("bad input: " + err.Error() + "\n")
		os.Exit(2)
	}
	resp := response{Errors: map[string]string{}, Matches: map[string][][2]interface{}{}}
	for name, pattern := range req.Patterns {
		re, err := regexp.Compile(pattern)
		if err != nil {
			resp.Errors[name] = err.Error()
			continue
		}
		found := [][2]interface{}{}
		for index, text := range req.Texts {
			for _, match := range re.FindAllString(text, -1) {
				found = append(found, [2]interface{}{index, match})
			}
		}
		resp.Matches[name] = found
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		os.Exit(2)
	}
}
