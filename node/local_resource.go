package node

import "context"

// resourceCounts counts the current resources of community by resource kind
// (article, guide, event...).
func (l *Local) resourceCounts(ctx context.Context, community string) (map[string]int, error) {
	return map[string]int{}, nil
}
