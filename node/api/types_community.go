package api

// CommunityBackend is the community part of Backend.
type CommunityBackend interface{}
