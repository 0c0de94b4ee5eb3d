package api

// PrivateBackend is the private part of Backend.
type PrivateBackend interface{}
