package api

// ResourceBackend is the resource part of Backend.
type ResourceBackend interface{}
