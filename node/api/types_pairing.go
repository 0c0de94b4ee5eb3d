package api

// PairingBackend is the pairing part of Backend.
type PairingBackend interface{}
