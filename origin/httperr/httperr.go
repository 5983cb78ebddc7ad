// Package httperr writes Strata's JSON errors:
// {"error": {"code": "...", "message": "..."}} with the matching status.
package httperr

import (
	"encoding/json"
	"net/http"
)

// Body is the JSON shape of an error.
type Body struct {
	Error Detail `json:"error"`
}

// Detail is a machine-readable code and a sentence for people.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Write sends an error response.
func Write(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Body{Detail{Code: code, Message: message}})
}

// Common errors.
func NotFound(w http.ResponseWriter, what string) {
	Write(w, http.StatusNotFound, "not_found", what+" not found")
}

// BadRequest answers 400 with a message saying what is wrong.
func BadRequest(w http.ResponseWriter, message string) {
	Write(w, http.StatusBadRequest, "bad_request", message)
}

// Unavailable answers 503: the node cannot serve yet.
func Unavailable(w http.ResponseWriter, message string) {
	w.Header().Set("Retry-After", "1")
	Write(w, http.StatusServiceUnavailable, "unavailable", message)
}

// Internal answers 500 without leaking details; log them instead.
func Internal(w http.ResponseWriter) {
	Write(w, http.StatusInternalServerError, "internal", "something went wrong on the server")
}
