package console

// preferenceRoutes registers the recipients' preference page (seed 004).
func (c *Console) preferenceRoutes(route routeFunc) {
}
