// Package e2e holds end-to-end tests that run the Lambda handlers, with the
// same JSON round trip as the Lambda runtime, on the production adapters
// against the local AWS emulators.
package e2e
