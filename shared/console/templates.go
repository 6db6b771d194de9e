package console

// templateRoutes registers the template gallery and editor (seeds 002, 003).
func (c *Console) templateRoutes(route routeFunc) {
}
