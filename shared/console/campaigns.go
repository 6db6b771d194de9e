package console

// campaignRoutes registers scheduled campaigns.
func (c *Console) campaignRoutes(route routeFunc) {
}
