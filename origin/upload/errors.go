package upload

import (
	"encoding/json"
	"net/http"

	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// errorBody is the JSON error every Strata endpoint answers with.
func errorBody(code, message string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return b
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(code, message))
}

// tusError is an error tusd sends as the response, with a JSON body.
func tusError(status int, code, message string) tusd.Error {
	return tusd.Error{
		ErrorCode: code,
		Message:   message,
		HTTPResponse: tusd.HTTPResponse{
			StatusCode: status,
			Body:       string(errorBody(code, message)),
			Header:     tusd.HTTPHeader{"Content-Type": "application/json"},
		},
	}
}
